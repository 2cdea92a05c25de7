//! Finding the reference material, and failing loudly when it is not there.

use std::path::Path;

use spec_check::{OpenApi3, SpecError, Swagger2, resolve_reference_dir};

#[test]
fn the_default_is_next_to_the_workspace() {
    let found = resolve_reference_dir(None, Path::new(env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(
        found.join("walmart-openapi").join("orders.json").is_file(),
        "{}",
        found.display()
    );
    assert!(found.ends_with("shared/reference"));
    assert_eq!(spec_check::reference_dir().map(|dir| dir.is_dir()), Ok(true));
}

#[test]
fn a_missing_directory_is_an_error_naming_the_path_and_the_variable() {
    let missing = Path::new("/nonexistent/channel-reference");
    let error = resolve_reference_dir(Some(missing), Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("/nonexistent/channel-reference"), "{message}");
    assert!(message.contains("CHANNEL_REFERENCE_DIR"), "{message}");

    let error = resolve_reference_dir(None, Path::new("/")).unwrap_err();
    assert!(
        error.to_string().contains("no Cargo.toml with [workspace]"),
        "{error}"
    );
}

#[test]
fn loaders_name_the_file_they_could_not_read() {
    let empty = std::env::temp_dir();
    match OpenApi3::load_walmart(&empty) {
        Err(SpecError::Read { path, .. }) => assert!(path.ends_with("auth.json"), "{}", path.display()),
        other => panic!("expected a read error, got {other:?}"),
    }
    match Swagger2::load_commerce(&empty) {
        Err(error @ SpecError::Read { .. }) => assert!(error.to_string().contains("admin-schema-2.4.9.yaml")),
        other => panic!("expected a read error, got {other:?}"),
    }
}
