//! Sessions in a browser: the session token rides in an HttpOnly, SameSite=Strict cookie
//! (Secure when clients come over HTTPS), which scripts cannot read. Because a browser sends
//! a cookie by itself, every request other than GET/HEAD/OPTIONS made with it must also carry
//! `X-CSRF-Token`: a value derived from the session token, which only pages of this origin
//! can learn (from the login answer or `GET /api/auth/me`).

use super::error::ApiError;
use crate::auth::secret;
use warp::http::{HeaderValue, Method, StatusCode};

pub const SESSION_COOKIE: &str = "cryptolens_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of the session whose token is `session_token`.
pub fn csrf_token(session_token: &str) -> String {
    secret::sha256_hex(&format!("cryptolens-csrf:{session_token}"))
}

/// A request made with the session cookie may change something only with the matching
/// `X-CSRF-Token` (403 `csrf` otherwise).
pub fn check_csrf(
    method: &Method,
    session_token: &str,
    presented: Option<&str>,
) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let expected = csrf_token(session_token);
    match presented {
        Some(given) if secret::digests_equal(given.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::Rejected {
            status: StatusCode::FORBIDDEN,
            code: "csrf",
            message: format!(
                "a request made with the session cookie must send the session's {CSRF_HEADER} \
                 header (from the login answer or GET /api/auth/me)"
            ),
        }),
    }
}

/// `Set-Cookie` starting a browser session that lasts `max_age_s`.
pub fn set_cookie(token: &str, max_age_s: u64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}{secure}"
    ))
    .ok()
}

/// `Set-Cookie` ending it.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static(
            "cryptolens_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure",
        )
    } else {
        HeaderValue::from_static(
            "cryptolens_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_need_the_token_and_only_the_session_s_own_token_passes() {
        let token = "cls_abc";
        let csrf = csrf_token(token);
        assert_ne!(csrf, csrf_token("cls_abd"));
        assert!(check_csrf(&Method::GET, token, None).is_ok());
        assert!(check_csrf(&Method::POST, token, Some(&csrf)).is_ok());
        for presented in [
            None,
            Some(""),
            Some(csrf_token("cls_abd").as_str()),
            Some(token),
        ] {
            let refused = check_csrf(&Method::POST, token, presented).unwrap_err();
            assert_eq!(refused.status(), StatusCode::FORBIDDEN);
            assert_eq!(refused.to_json()["error"]["code"], "csrf");
        }
        assert!(check_csrf(&Method::DELETE, token, None).is_err());
        assert!(check_csrf(&Method::PATCH, token, None).is_err());
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_behind_tls() {
        let plain = set_cookie("cls_x", 60, false).unwrap();
        assert_eq!(
            plain.to_str().unwrap(),
            "cryptolens_session=cls_x; HttpOnly; SameSite=Strict; Path=/; Max-Age=60"
        );
        let secure = set_cookie("cls_x", 60, true).unwrap();
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
        assert!(clear_cookie(true).to_str().unwrap().contains("Max-Age=0"));
        assert!(set_cookie("bad\ntoken", 60, false).is_none());
    }
}
