//! `From`-style conversions between the generated WIT types and the host's own types
//! (`crate::event`, `plugin::instance`). With `bindings.rs` the only file that names a
//! generated type. Enum variants have the same names on both sides, so one macro line per
//! enum keeps them in lock-step: a variant added to the WIT without the host fails to compile.

//!
//! The conversions are in `rules.rs`, written against a module named `wit`; the bench-only
//! native build includes the same text against the guest SDK's types (see `plugin::native`),
//! so both paths convert through one definition.

use super::bindings::wit;

include!("rules.rs");

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&str, &str)], body: &[u8]) -> wit::Reply {
        wit::Reply {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| wit::Header {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            body: body.to_vec(),
        }
    }

    #[test]
    fn rulings_keep_tips_short_and_details_an_object() {
        let ruling = |tip: &str, details: &str| wit::Ruling {
            decision: wit::Decision::Granted,
            custom_tip: Some(tip.to_string()),
            details: details.to_string(),
        };
        let ok = ruling_from_wit(ruling("Welcome", r#"{"reason": "staff"}"#)).unwrap();
        assert_eq!(ok.details["reason"], "staff");
        assert!(
            ruling_from_wit(ruling("Welcome", "")).is_ok(),
            "empty details mean {{}}"
        );
        let long = ruling_from_wit(ruling(&"x".repeat(MAX_TIP_BYTES + 1), "{}")).unwrap_err();
        assert!(long.contains("custom-tip"), "{long}");
        let hidden = ruling_from_wit(ruling("Wel\u{202E}come\u{200B} Bob\u{2066}\n", "{}")).unwrap();
        assert_eq!(
            hidden.custom_tip.as_deref(),
            Some("Welcome Bob "),
            "bidi and zero-width removed"
        );
        let list = ruling_from_wit(ruling("ok", "[1]")).unwrap_err();
        assert!(list.contains("`details` must be a JSON object"), "{list}");
        let back = ruling_to_wit(&ok);
        assert_eq!(
            (back.decision, back.details.as_str()),
            (wit::Decision::Granted, r#"{"reason":"staff"}"#)
        );
    }

    #[test]
    fn replies_may_not_frame_themselves() {
        let ok = reply_from_wit(reply(
            200,
            &[("content-type", "application/json"), ("X-NOAHFACE-MESSAGE", "hi")],
            b"{}",
        ));
        assert_eq!(ok.unwrap().headers.len(), 2);
        for framing in [
            "Content-Length",
            "transfer-encoding",
            "Connection",
            "upgrade",
            "TE",
            "keep-alive",
        ] {
            let err = reply_from_wit(reply(200, &[(framing, "1")], b"")).unwrap_err();
            assert!(err.contains("is the host's to set"), "{framing}: {err}");
        }
        assert!(
            reply_from_wit(reply(200, &[("bad name", "x")], b""))
                .unwrap_err()
                .contains("header name")
        );
        assert!(
            reply_from_wit(reply(200, &[("x-a", "line\nbreak")], b""))
                .unwrap_err()
                .contains("value")
        );
        assert!(
            reply_from_wit(reply(101, &[], b""))
                .unwrap_err()
                .contains("final HTTP status")
        );
        assert!(
            reply_from_wit(reply(204, &[], b"x"))
                .unwrap_err()
                .contains("cannot carry a body")
        );
    }
}
