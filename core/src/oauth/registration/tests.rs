use super::*;

fn metadata(cimd: bool) -> AuthServerMetadata {
    let mut meta =
        AuthServerMetadata::defaults_at(&Url::parse("https://auth.example.com").expect("url"));
    meta.client_id_metadata_document_supported = cimd;
    meta
}

fn url(raw: &str) -> Url {
    Url::parse(raw).expect("url")
}

#[test]
fn the_document_url_is_on_the_origin_unless_configured() {
    let origin = url("https://bindify.example.com/anything?x=1");
    assert_eq!(
        client_metadata_url(&origin, None)
            .map(String::from)
            .as_deref(),
        Some("https://bindify.example.com/oauth/client-metadata.json")
    );
    assert_eq!(
        client_metadata_url(&origin, Some(" https://clients.example.com/bindify.json "))
            .map(String::from)
            .as_deref(),
        Some("https://clients.example.com/bindify.json")
    );
}

#[test]
fn a_document_url_must_be_https_with_a_path() {
    // A Worker served over http (local development) has none of its own.
    assert_eq!(
        client_metadata_url(&url("http://127.0.0.1:8787/"), None),
        None
    );
    for configured in [
        "http://clients.example.com/bindify.json",
        "https://clients.example.com",
        "https://clients.example.com/",
        "https://clients.example.com/c.json#frag",
        "https://user:pw@clients.example.com/c.json",
        "/oauth/client-metadata.json",
        "not a url",
    ] {
        assert_eq!(
            client_metadata_url(&url("https://bindify.example.com"), Some(configured)),
            None,
            "{configured}"
        );
    }
}

#[test]
fn the_document_describes_a_public_client_with_this_callback() {
    let id = url("https://bindify.example.com/oauth/client-metadata.json");
    let callback = url("https://bindify.example.com/oauth/callback");
    assert_eq!(
        client_metadata_document(&id, &callback, "Bindify"),
        serde_json::json!({
            "client_id": "https://bindify.example.com/oauth/client-metadata.json",
            "client_name": "Bindify",
            "client_uri": "https://bindify.example.com/",
            "redirect_uris": ["https://bindify.example.com/oauth/callback"],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "application_type": "web",
        })
    );
}

#[test]
fn pre_registered_then_metadata_document_then_dynamic_registration() {
    let configured = ConfiguredClient {
        client_id: "owner-registered".into(),
        client_secret: Some(oauth2::ClientSecret::new("s3cret".into())),
    };
    let document = url("https://bindify.example.com/oauth/client-metadata.json");

    // 1. The owner's client wins, even where metadata documents are accepted.
    let chosen = without_registration(Some(&configured), Some(&document), &metadata(true), 5)
        .expect("configured");
    assert_eq!(chosen.client_id, "owner-registered");
    assert_eq!(chosen.source, ClientSource::Configured);
    assert_eq!(chosen.auth_method, TokenAuthMethod::ClientSecretPost);

    // 2. Then the metadata document, when the server says it accepts one.
    let chosen = without_registration(None, Some(&document), &metadata(true), 5).expect("document");
    assert_eq!(
        chosen.client_id,
        "https://bindify.example.com/oauth/client-metadata.json"
    );
    assert_eq!(chosen.source, ClientSource::MetadataDocument);
    assert_eq!(chosen.auth_method, TokenAuthMethod::None);
    assert!(chosen.client_secret.is_none());
    assert_eq!(chosen.registered_at, 5);

    // 3. Otherwise dynamic registration: the server does not accept documents, or Bindify has
    //    no https document URL.
    assert!(without_registration(None, Some(&document), &metadata(false), 5).is_none());
    assert!(without_registration(None, None, &metadata(true), 5).is_none());
}

#[test]
fn the_source_is_stored_by_name() {
    assert_eq!(
        serde_json::to_value(ClientSource::MetadataDocument).expect("json"),
        "metadata_document"
    );
}
