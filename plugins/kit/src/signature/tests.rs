use super::*;

/// The smallest valid component: the component-model header and nothing else.
const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";

fn now() -> jiff::Timestamp {
    "2026-12-04T10:00:00Z".parse().unwrap()
}

fn signed(claims: &str) -> (Vec<u8>, PrivateKey) {
    let key = PrivateKey::generate().unwrap();
    let wasm = crate::section::replace(EMPTY_COMPONENT, "other", Some(b"payload")).unwrap();
    let claims = Claims::parse(claims, now()).unwrap();
    (sign(&wasm, &key, claims).unwrap(), key)
}

#[test]
fn a_signed_component_verifies_and_names_its_signer_and_claims() {
    let (wasm, key) = signed("name=normalize-acme, version=1.4.0,vendor=Acme,expires=2027-06-30");
    let signature = read(&wasm).unwrap().expect("signed");
    assert_eq!(signature.signer, key.public());
    assert_eq!(signature.claims.name.as_deref(), Some("normalize-acme"));
    assert_eq!(signature.claims.expires.as_deref(), Some("2027-06-30T23:59:59Z"));
    assert_eq!(signature.claims.signed_at, "2026-12-04T10:00:00Z");
    assert_eq!(signature.check(&wasm).unwrap(), Ok(()));
    // Signing again replaces the signature instead of adding a second one.
    let again = sign(&wasm, &key, signature.claims.clone()).unwrap();
    assert_eq!(again.len(), wasm.len());
    assert_eq!(read(&again).unwrap().unwrap().check(&again).unwrap(), Ok(()));
}

#[test]
fn a_changed_byte_or_claim_is_caught() {
    let (wasm, key) = signed("name=a");
    // A byte of another section changed.
    let mut tampered = wasm.clone();
    let at = tampered.windows(7).position(|w| w == b"payload").unwrap();
    tampered[at] = b'P';
    let broken = read(&tampered).unwrap().unwrap().check(&tampered).unwrap();
    assert!(matches!(broken, Err(Broken::DigestMismatch { .. })), "{broken:?}");
    assert!(broken.unwrap_err().to_string().starts_with("digest mismatch"));
    // A claim changed inside the signature section (the digest still matches the bytes).
    let mut signature = read(&wasm).unwrap().unwrap();
    signature.claims.name = Some("b".into());
    assert_eq!(signature.check(&wasm).unwrap(), Err(Broken::BadSignature));
    // Another key's signature over the same digest does not verify as this one's.
    let other = PrivateKey::generate().unwrap();
    let mut forged = read(&sign(&wasm, &other, signature.claims.clone()).unwrap())
        .unwrap()
        .unwrap();
    forged.signer = key.public();
    assert_eq!(forged.check(&wasm).unwrap(), Err(Broken::BadSignature));
}

#[test]
fn unsigned_components_read_as_none_and_claims_are_checked() {
    assert!(read(EMPTY_COMPONENT).unwrap().is_none());
    assert!(
        Claims::parse("colour=red", now())
            .unwrap_err()
            .to_string()
            .contains("unknown claim `colour`")
    );
    assert!(Claims::parse("name", now()).is_err());
    assert!(Claims::parse("expires=soon", now()).is_err());
    let claims = Claims::parse("expires=2027-01-01T00:00:00+02:00", now()).unwrap();
    assert_eq!(claims.expires.as_deref(), Some("2026-12-31T22:00:00Z"));
}

#[test]
fn keys_round_trip_through_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    std::fs::write(dir.path().join("k.pem"), key.to_pem()).unwrap();
    std::fs::write(dir.path().join("k.pub"), format!("{}\n", key.public())).unwrap();
    let back = PrivateKey::load(&dir.path().join("k.pem")).unwrap();
    assert_eq!(back.public(), key.public());
    assert_eq!(PublicKey::load(&dir.path().join("k.pub")).unwrap(), key.public());
    // The same key as SPKI PEM, as openssl writes it.
    let mut der = keys::tests_spki_prefix().to_vec();
    der.extend_from_slice(key.public().bytes());
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        B64.encode(der)
    );
    std::fs::write(dir.path().join("k.spki"), pem).unwrap();
    assert_eq!(PublicKey::load(&dir.path().join("k.spki")).unwrap(), key.public());
    // Debug output never shows the private key.
    assert!(!format!("{key:?}").contains(&B64.encode(key.pkcs8())));
    assert!("ed25519:AAAA".parse::<PublicKey>().is_err());
    assert!("rsa:AAAA".parse::<PublicKey>().is_err());
}
