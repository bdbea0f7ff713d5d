//! The rule for tests that read `../shared`: under CI its absence is a failure, on a user's
//! clone a skip with a notice. Regression: tests used to skip silently in CI too.

use crate::support::shared_data_or_skip;
use std::path::PathBuf;

fn missing_dir() -> PathBuf {
    std::env::temp_dir().join("cryptolens-no-such-shared-dir-7f3a")
}

#[test]
#[should_panic(expected = "CI is set")]
fn missing_shared_data_fails_under_ci() {
    shared_data_or_skip(missing_dir(), true);
}

#[test]
fn missing_shared_data_skips_on_a_users_clone() {
    assert_eq!(shared_data_or_skip(missing_dir(), false), None);
}

#[test]
fn present_shared_data_is_used_in_both() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_path_buf();
    assert_eq!(shared_data_or_skip(path.clone(), true), Some(path.clone()));
    assert_eq!(shared_data_or_skip(path.clone(), false), Some(path));
}
