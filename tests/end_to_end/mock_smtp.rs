//! A mock SMTP server on 127.0.0.1 that speaks what RFC 5321 and RFC 3207 (STARTTLS) and
//! RFC 4954 (AUTH PLAIN/LOGIN) document, enough for a real client: greeting, EHLO with its
//! extensions, STARTTLS with a certificate for `localhost` made for the test (its PEM is
//! written beside it for the server to trust), AUTH, MAIL FROM, RCPT TO, DATA, RSET, NOOP,
//! QUIT. Every accepted mail is recorded with its envelope, its data and whether it came over
//! TLS; the test scripts the answers to DATA (accept, 451 transient, 550 permanent, a black
//! hole that never answers). Without TLS it offers no STARTTLS (a server a client must refuse).
#![allow(dead_code)] // a server for several notification tests.

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SmtpAnswer {
    Accept,
    /// 451: try again later.
    Transient,
    /// 550: no such mailbox.
    Permanent,
    /// Never answers the end of DATA.
    BlackHole,
}

#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    /// (username, password) of AUTH, if the client authenticated.
    pub auth: Option<(String, String)>,
    pub over_tls: bool,
    /// What the mock answered to the end of DATA.
    pub answered: Option<u16>,
}

impl Mail {
    /// A header of the message (unfolded), by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    pub fn body(&self) -> String {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    mails: Vec<Mail>,
    script: VecDeque<SmtpAnswer>,
    /// Commands seen, in order, over every connection (`MAIL`, `AUTH`, `STARTTLS`...).
    commands: Vec<String>,
}

pub struct MockSmtp {
    pub port: u16,
    /// The certificate to trust (PEM), when the server offers STARTTLS.
    pub certificate_pem: Option<PathBuf>,
    state: Arc<Mutex<State>>,
    _dir: tempfile::TempDir,
}

impl MockSmtp {
    /// A server offering STARTTLS with a certificate for `localhost`.
    pub async fn start() -> MockSmtp {
        MockSmtp::start_with(true).await
    }

    /// A server that offers no STARTTLS.
    pub async fn start_without_tls() -> MockSmtp {
        MockSmtp::start_with(false).await
    }

    async fn start_with(tls: bool) -> MockSmtp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (acceptor, certificate_pem) = if tls {
            let (acceptor, pem) = tls_acceptor();
            let path = dir.path().join("smtp-ca.pem");
            std::fs::write(&path, pem).expect("write the certificate");
            (Some(acceptor), Some(path))
        } else {
            (None, None)
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (state, acceptor) = (Arc::clone(&shared), acceptor.clone());
                tokio::spawn(async move { serve_connection(socket, acceptor, state).await });
            }
        });
        MockSmtp {
            port,
            certificate_pem,
            state,
            _dir: dir,
        }
    }

    /// The next answers to DATA, in order; then every mail is accepted.
    pub fn script(&self, answers: &[SmtpAnswer]) {
        self.state.lock().script.extend(answers.iter().copied());
    }

    /// Every mail that reached the end of DATA, whatever it was answered.
    pub fn mails(&self) -> Vec<Mail> {
        self.state.lock().mails.clone()
    }

    pub fn commands(&self) -> Vec<String> {
        self.state.lock().commands.clone()
    }
}

/// A TLS acceptor for a self-signed `localhost` certificate, and that certificate's PEM.
fn tls_acceptor() -> (TlsAcceptor, String) {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let certificate = generated.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::try_from(generated.signing_key.serialize_der())
        .expect("key");
    // ring, as the server's own clients (no C toolchain for aws-lc); a loopback test server
    // has no use for the post-quantum key exchange ring lacks.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .expect("server config");
    (TlsAcceptor::from(Arc::new(config)), generated.cert.pem())
}

async fn serve_connection(
    socket: tokio::net::TcpStream,
    acceptor: Option<TlsAcceptor>,
    state: Arc<Mutex<State>>,
) {
    let offers_tls = acceptor.is_some();
    let Some(plain) = session(socket, offers_tls, false, true, &state).await else {
        return;
    };
    let Some(acceptor) = acceptor else {
        return;
    };
    let Ok(secure) = acceptor.accept(plain).await else {
        return;
    };
    let _ = session(secure, false, true, false, &state).await;
}

/// One SMTP conversation on `stream` until QUIT, a closed connection or STARTTLS (then the
/// stream comes back, for the caller to upgrade).
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    offers_tls: bool,
    over_tls: bool,
    greet: bool,
    state: &Mutex<State>,
) -> Option<S> {
    let mut stream = BufReader::new(stream);
    if greet {
        stream
            .write_all(b"220 mock.smtp ESMTP ready\r\n")
            .await
            .ok()?;
    }
    let mut mail = Mail {
        over_tls,
        ..Mail::default()
    };
    let mut auth: Option<(String, String)> = None;
    loop {
        let line = read_line(&mut stream).await?;
        let verb = line
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        state.lock().commands.push(verb.clone());
        let reply: String = match verb.as_str() {
            "EHLO" | "HELO" => {
                let mut lines = vec!["250-mock.smtp greets you".to_owned()];
                if offers_tls {
                    lines.push("250-STARTTLS".into());
                }
                if over_tls {
                    lines.push("250-AUTH PLAIN LOGIN".into());
                }
                lines.push("250 8BITMIME".into());
                lines.join("\r\n") + "\r\n"
            }
            "STARTTLS" if offers_tls => {
                stream
                    .write_all(b"220 2.0.0 ready to start TLS\r\n")
                    .await
                    .ok()?;
                stream.flush().await.ok()?;
                return Some(stream.into_inner());
            }
            "AUTH" => {
                auth = authenticate(&line, &mut stream).await;
                if auth.is_some() {
                    "235 2.7.0 authenticated\r\n".into()
                } else {
                    "535 5.7.8 credentials refused\r\n".into()
                }
            }
            "MAIL" => {
                mail = Mail {
                    over_tls,
                    auth: auth.clone(),
                    from: address(&line),
                    ..Mail::default()
                };
                "250 2.1.0 ok\r\n".into()
            }
            "RCPT" => {
                mail.to.push(address(&line));
                "250 2.1.5 ok\r\n".into()
            }
            "DATA" => {
                stream
                    .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                    .await
                    .ok()?;
                mail.data = read_data(&mut stream).await?;
                let answer = state
                    .lock()
                    .script
                    .pop_front()
                    .unwrap_or(SmtpAnswer::Accept);
                let (code, text) = match answer {
                    SmtpAnswer::Accept => (250, "250 2.0.0 queued\r\n"),
                    SmtpAnswer::Transient => (451, "451 4.3.0 try again later\r\n"),
                    SmtpAnswer::Permanent => (550, "550 5.1.1 no such mailbox\r\n"),
                    SmtpAnswer::BlackHole => {
                        state.lock().mails.push(mail.clone());
                        std::future::pending::<()>().await;
                        return None;
                    }
                };
                mail.answered = Some(code);
                state.lock().mails.push(mail.clone());
                text.into()
            }
            "RSET" | "NOOP" => "250 2.0.0 ok\r\n".into(),
            "QUIT" => {
                let _ = stream.write_all(b"221 2.0.0 bye\r\n").await;
                return None;
            }
            _ => "502 5.5.2 not implemented\r\n".into(),
        };
        stream.write_all(reply.as_bytes()).await.ok()?;
    }
}

async fn read_line<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut BufReader<S>) -> Option<String> {
    let mut line = String::new();
    let read = stream.read_line(&mut line).await.ok()?;
    (read > 0).then(|| line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The lines up to the lone `.`, dot-unstuffed, joined by CRLF.
async fn read_data<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut BufReader<S>) -> Option<String> {
    let mut lines = Vec::new();
    loop {
        let line = read_line(stream).await?;
        if line == "." {
            return Some(lines.join("\r\n"));
        }
        lines.push(line.strip_prefix('.').map(str::to_owned).unwrap_or(line));
    }
}

/// `MAIL FROM:<a@b>` / `RCPT TO:<a@b>`: the address.
fn address(line: &str) -> String {
    let start = line.find('<').map_or(0, |index| index + 1);
    let end = line.rfind('>').unwrap_or(line.len());
    line.get(start..end).unwrap_or_default().to_owned()
}

/// AUTH PLAIN (initial response or on the next line) or AUTH LOGIN: the credentials.
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    line: &str,
    stream: &mut BufReader<S>,
) -> Option<(String, String)> {
    use base64::Engine;
    let decode = |text: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
    };
    let mut words = line.split_whitespace().skip(1);
    match words.next()?.to_ascii_uppercase().as_str() {
        "PLAIN" => {
            let response = match words.next() {
                Some(initial) => initial.to_owned(),
                None => {
                    stream.write_all(b"334 \r\n").await.ok()?;
                    read_line(stream).await?
                }
            };
            let decoded = decode(&response)?;
            let mut parts = decoded.split('\0').skip(1);
            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
        }
        "LOGIN" => {
            stream.write_all(b"334 VXNlcm5hbWU6\r\n").await.ok()?;
            let username = decode(&read_line(stream).await?)?;
            stream.write_all(b"334 UGFzc3dvcmQ6\r\n").await.ok()?;
            let password = decode(&read_line(stream).await?)?;
            Some((username, password))
        }
        _ => None,
    }
}
