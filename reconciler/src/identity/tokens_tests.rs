//! Tests of the bootstrap token store.

use super::*;

fn identity(namespace: &str, service_account: &str) -> Identity {
    Identity {
        namespace: namespace.into(),
        service_account: service_account.into(),
    }
}

fn services(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn grant(namespace: &str, service_account: &str, names: &[&str]) -> Verdict {
    Verdict::Valid(Grant {
        identity: identity(namespace, service_account),
        services: services(names),
    })
}

#[test]
fn a_token_proves_its_identity_and_services_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let store = TokenStore::new(dir.path());
    let (record, token) = store
        .create(
            &identity("shop", "api"),
            &services(&["api-v1", "api"]),
            DEFAULT_TTL,
        )
        .unwrap();
    assert_eq!(
        store.verify(&token).unwrap(),
        grant("shop", "api", &["api", "api-v1"])
    );
    let stored = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
    assert!(
        !stored.contains(token.rsplit('_').next().unwrap()),
        "the secret is never stored"
    );
    store.revoke(&record.id).unwrap();
    assert_eq!(store.verify(&token).unwrap(), Verdict::Invalid);
}

#[test]
fn a_forged_secret_proves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = TokenStore::new(dir.path());
    let (record, _) = store
        .create(&identity("shop", "api"), &services(&["api"]), DEFAULT_TTL)
        .unwrap();
    assert_eq!(
        store
            .verify(&format!("mcd_{}_deadbeef", record.id))
            .unwrap(),
        Verdict::Invalid
    );
    assert_eq!(store.verify("garbage").unwrap(), Verdict::Invalid);
}

#[test]
fn an_expired_token_says_when_it_expired() {
    let dir = tempfile::tempdir().unwrap();
    let store = TokenStore::new(dir.path());
    let (record, token) = store
        .create(
            &identity("shop", "api"),
            &services(&["api"]),
            Duration::from_secs(60),
        )
        .unwrap();
    let later = SystemTime::now() + Duration::from_secs(61);
    assert_eq!(
        store.verify_at(&token, later).unwrap(),
        Verdict::Expired(record.expiry())
    );
    assert!(record.expiry().contains('T'), "{}", record.expiry());
}

#[test]
fn a_token_without_a_service_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let store = TokenStore::new(dir.path());
    assert!(matches!(
        store.create(&identity("shop", "api"), &[], DEFAULT_TTL),
        Err(TokenError::NoService)
    ));
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn a_record_from_before_services_and_expiry_is_refused_as_outdated() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "0123456789abcdef";
    let old = serde_json::json!([{
        "id": "a1b2c3",
        "namespace": "shop",
        "service_account": "api",
        "secret_sha256": hex::encode(Sha256::digest(secret.as_bytes())),
    }]);
    crate::identity::ca::write_private(&dir.path().join(TOKENS_FILE), &old.to_string()).unwrap();
    let store = TokenStore::new(dir.path());
    assert_eq!(
        store.verify(&format!("mcd_a1b2c3_{secret}")).unwrap(),
        Verdict::Outdated("a1b2c3".into())
    );
}

#[test]
fn concurrent_creates_and_revokes_keep_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let kept = TokenStore::new(dir.path())
        .create(&identity("shop", "web"), &services(&["web"]), DEFAULT_TTL)
        .unwrap()
        .0;
    let doomed = TokenStore::new(dir.path())
        .create(&identity("shop", "old"), &services(&["old"]), DEFAULT_TTL)
        .unwrap()
        .0;
    let threads: Vec<_> = (0..16)
        .map(|index| {
            let path = dir.path().to_path_buf();
            let doomed = doomed.id.clone();
            std::thread::spawn(move || {
                // Each thread has its own store, as separate `meshcd token` processes do.
                let store = TokenStore::new(&path);
                if index == 0 {
                    store.revoke(&doomed).unwrap();
                }
                store
                    .create(
                        &identity("shop", &format!("sa{index}")),
                        &services(&["api"]),
                        DEFAULT_TTL,
                    )
                    .unwrap()
                    .0
                    .id
            })
        })
        .collect();
    let created: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let listed: Vec<String> = TokenStore::new(dir.path())
        .list()
        .unwrap()
        .into_iter()
        .map(|record| record.id)
        .collect();
    assert_eq!(listed.len(), 17, "{listed:?}");
    assert!(listed.contains(&kept.id));
    assert!(!listed.contains(&doomed.id));
    for id in created {
        assert!(listed.contains(&id), "{id} was lost");
    }
}

#[test]
fn a_store_others_can_write_while_meshcd_runs_proves_nothing_and_says_why() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let store = TokenStore::new(dir.path());
    let (_, token) = store
        .create(&identity("shop", "api"), &services(&["api"]), DEFAULT_TTL)
        .unwrap();
    let path = dir.path().join(TOKENS_FILE);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let error = store
        .verify(&token)
        .expect_err("an exposed store is refused");
    let chain = meshcd_support::error_chain(&error);
    assert!(chain.contains("chmod 600"), "{chain}");
}
