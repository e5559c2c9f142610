//! switchyard.toml(5): the same reference as docs/config.md, as a man page (the Debian package
//! installs it; `switchyard manpage DIR` writes it beside the command pages).

use super::markdown::{default_text, type_text};
use super::tables;

/// The page, in roff.
pub fn manpage() -> String {
    let mut out = format!(
        ".TH SWITCHYARD.TOML 5 \"\" \"switchyard {}\" \"File Formats\"\n\
         .SH NAME\nswitchyard.toml \\- router.toml, the configuration of the switchyard event router\n\
         .SH SYNOPSIS\n/etc/switchyard/router.toml (Debian package), or the file given to \
         \\fBswitchyard run \\-\\-config\\fR\n\
         .SH DESCRIPTION\n{}\n.PP\n{}\n",
        env!("CARGO_PKG_VERSION"),
        text(
            "A TOML file of tables: `[server]`, `[admin]`, `[cluster]`, `[plugins.<id>]`, `[[sources]]`, `[sinks.<id>]` and `[[routes]]`. Unknown keys are errors; `switchyard check` reports every problem at once with its line and column."
        ),
        text(
            "**live** keys take effect on the next reload (the file is watched; also SIGHUP, `systemctl reload switchyard`); **restart** keys are kept by a running router, and a reload that changes one is rejected. `switchyard config schema` prints a JSON Schema for editors."
        ),
    );
    for table in tables() {
        let heading = if table.path.is_empty() {
            "TOP LEVEL".to_string()
        } else {
            table.path.to_uppercase()
        };
        out.push_str(&format!(
            ".SH \"{}\"\n{}\n",
            heading.replace('"', ""),
            text(table.about)
        ));
        for key in table.keys {
            let mut facts = vec![type_text(&key.ty)];
            if let Some(d) = default_text(&key.default) {
                facts.push(format!("default {d}"));
            }
            if key.required {
                facts.push("required".into());
            }
            facts.push(key.reload.as_str().into());
            out.push_str(&format!(
                ".TP\n.B {}\n({})\n{}\n",
                key.name,
                text(&facts.join("; ")),
                text(key.about)
            ));
        }
    }
    out.push_str(".SH SEE ALSO\n\\fBswitchyard\\fR(1), \\fBswitchyard-run\\fR(1), \\fBswitchyard-init\\fR(1), \\fBswitchyard-check\\fR(1)\n");
    out
}

/// Markdown-ish reference text as roff: code and emphasis marks dropped, links reduced to their
/// text, backslashes escaped, no line starting with a control character.
fn text(markdown: &str) -> String {
    let mut plain = String::with_capacity(markdown.len());
    let mut rest = markdown;
    // [label](#anchor) → label
    while let Some(open) = rest.find('[') {
        plain.push_str(&rest[..open]);
        let after = &rest[open..];
        match (after.find("]("), after.find(')')) {
            (Some(close), Some(end)) if close < end => {
                plain.push_str(&after[1..close]);
                rest = &after[end + 1..];
            }
            _ => {
                plain.push('[');
                rest = &after[1..];
            }
        }
    }
    plain.push_str(rest);
    let plain = plain.replace("**", "").replace('`', "").replace('\\', "\\e");
    plain
        .lines()
        .map(|l| {
            if l.starts_with(['.', '\'']) {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_on_the_page() {
        let page = manpage();
        assert!(page.starts_with(".TH SWITCHYARD.TOML 5"));
        for table in tables() {
            for key in table.keys {
                assert!(page.contains(&format!(".B {}\n", key.name)), "{}", key.name);
            }
        }
        assert_eq!(text("see [`x`](#y) and `z`"), "see x and z");
        assert_eq!(text(".dot"), "\\&.dot");
    }
}
