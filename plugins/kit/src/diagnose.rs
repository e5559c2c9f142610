//! Build errors in the author's terms: `app.py:12:23: SyntaxError: expected ':'` with the line
//! and a caret, instead of componentize-js's "failed to parse JS source, encountered [1]
//! errors" or a Python error buried in a page of the tool's own backtrace.
//!
//! Syntax is checked before the language's componentize step, with the interpreter the
//! toolchain needs anyway (Node.js for JavaScript, Python for componentize-py); an error the
//! componentize step itself reports (a module that fails while it is imported) is cut down to
//! the guest's traceback, with paths inside the build's sandbox mapped back to the project.

use crate::manifest::Project;
use anyhow::bail;
use std::path::Path;
use std::process::Command;

/// Python's parser over every `.py` source of the project: the first syntax error as
/// `file:line:column: SyntaxError: message`, the line and a caret.
const PYTHON_CHECK: &str = r#"
import ast, sys
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            ast.parse(f.read(), path)
    except SyntaxError as e:
        col = e.offset or 1
        print(f"{e.filename}:{e.lineno}:{col}: {type(e).__name__}: {e.msg}")
        text = (e.text or "").rstrip("\n")
        if text:
            print("    " + text)
            print("    " + " " * (col - 1) + "^")
        sys.exit(1)
"#;

/// Checks the syntax of the project's Python sources (not the vendored kit: it is ours).
pub(crate) fn python_syntax(project: &Project) -> anyhow::Result<()> {
    let files = sources(project, ".py");
    if files.is_empty() {
        return Ok(());
    }
    let Some(python) = ["python3", "python"]
        .into_iter()
        .find(|p| crate::toolchain::runs(Path::new(p)))
    else {
        // No interpreter to ask: componentize-py reports the error its own way.
        return Ok(());
    };
    let out = Command::new(python)
        .current_dir(&project.dir)
        .arg("-c")
        .arg(PYTHON_CHECK)
        .args(&files)
        .output()?;
    if !out.status.success() {
        bail!("{}", String::from_utf8_lossy(&out.stdout).trim_end());
    }
    Ok(())
}

/// Checks the syntax of the project's JavaScript sources with `node --check`.
pub(crate) fn js_syntax(project: &Project) -> anyhow::Result<()> {
    for file in sources(project, ".js") {
        let out = Command::new("node")
            .current_dir(&project.dir)
            .arg("--check")
            .arg(&file)
            .output();
        let Ok(out) = out else {
            // No Node.js: componentize-js (which needs it too) will say so.
            return Ok(());
        };
        if !out.status.success() {
            bail!("{}", node_error(&file, &String::from_utf8_lossy(&out.stderr)));
        }
    }
    Ok(())
}

/// `node --check` prints `path:line`, the line, a caret line, a blank line and
/// `SyntaxError: message`: made into `file:line:column: SyntaxError: message` and the two lines.
fn node_error(file: &str, stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let line = lines
        .first()
        .and_then(|l| l.rsplit_once(':'))
        .and_then(|(_, n)| n.trim().parse::<usize>().ok());
    let (source, caret) = (lines.get(1).copied().unwrap_or(""), lines.get(2).copied().unwrap_or(""));
    let message = lines
        .iter()
        .find(|l| l.contains("Error:") && !l.trim_start().starts_with("at "))
        .map_or_else(|| stderr.trim().to_string(), |l| l.trim().to_string());
    match (line, caret.find('^')) {
        (Some(line), Some(col)) => format!("{file}:{line}:{}: {message}\n    {source}\n    {caret}", col + 1),
        (Some(line), None) => format!("{file}:{line}: {message}"),
        _ => format!("{file}: {message}"),
    }
}

/// componentize-py's failure, cut to what the author needs: the guest's traceback (after
/// `AssertionError:`, before `Caused by:`), with the sandbox's `/0/` mapped to the project and
/// the last `File "…", line N` put first as `file:line: error`.
pub(crate) fn componentize_py_failure(output: &str) -> String {
    let guest = output
        .split_once("AssertionError: ")
        .map(|(_, rest)| rest)
        .map(|rest| rest.split("\nCaused by:").next().unwrap_or(rest))
        .unwrap_or(output)
        .replace("\"/0/", "\"")
        .trim()
        .to_string();
    let at = guest.lines().rev().find_map(|l| {
        let rest = l.trim_start().strip_prefix("File \"")?;
        let (file, rest) = rest.split_once('"')?;
        let line: usize = rest.strip_prefix(", line ")?.split(',').next()?.trim().parse().ok()?;
        Some(format!("{file}:{line}"))
    });
    let error = guest
        .lines()
        .rev()
        .find(|l| !l.starts_with(' ') && l.contains(": "))
        .unwrap_or("")
        .to_string();
    match at {
        Some(at) if !error.is_empty() => format!("{at}: {error}\n{guest}"),
        _ => guest,
    }
}

/// The project's own sources with `extension` (relative paths), not the kit's file.
fn sources(project: &Project, extension: &str) -> Vec<String> {
    project
        .sources()
        .into_iter()
        .filter(|p| {
            p.extension()
                .is_some_and(|x| Some(x) == extension.strip_prefix('.').map(std::ffi::OsStr::new))
        })
        .filter_map(|p| p.strip_prefix(&project.dir).ok().map(|r| r.display().to_string()))
        .filter(|r| !r.starts_with("switchyard_kit") && !r.starts_with("switchyard-kit"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_syntax_errors_get_line_and_column() {
        let stderr = "/tmp/p/app.js:36\n  }),\n   ^\n\nSyntaxError: Unexpected token ')'\n    at checkSyntax (node:internal/main/check_syntax:74:5)\n\nNode.js v20.20.2\n";
        assert_eq!(
            node_error("app.js", stderr),
            "app.js:36:4: SyntaxError: Unexpected token ')'\n      }),\n       ^"
        );
    }

    #[test]
    fn componentize_py_failures_are_cut_to_the_guest_traceback() {
        let output = "Traceback (most recent call last):\n  File \"/usr/bin/componentize-py\", line 8, in <module>\n    sys.exit(script())\n             ^^^^^^^^\nAssertionError: Traceback (most recent call last):\n  File \"/0/app.py\", line 27, in <module>\n    undefined_at_import\nNameError: name 'undefined_at_import' is not defined\n\n\nCaused by:\n    NameError: name 'undefined_at_import' is not defined\n\nStack backtrace:\n   0: anyhow\n";
        assert_eq!(
            componentize_py_failure(output),
            "app.py:27: NameError: name 'undefined_at_import' is not defined\n\
             Traceback (most recent call last):\n  File \"app.py\", line 27, in <module>\n    undefined_at_import\n\
             NameError: name 'undefined_at_import' is not defined"
        );
    }

    #[test]
    fn python_syntax_errors_get_line_and_column() {
        if !crate::toolchain::runs(Path::new("python3")) {
            return;
        }
        let root = tempfile::tempdir().expect("tmp");
        let dir = root.path().join("p");
        crate::scaffold::new_project(&dir, "p", crate::Kind::Filter, crate::Lang::Python).expect("new");
        let app = dir.join("app.py");
        let text = std::fs::read_to_string(&app).expect("app.py");
        std::fs::write(&app, text.replacen("def rule() -> dict:", "def rule() -> dict", 1)).expect("edit");
        let project = Project::find(&dir).expect("project");
        let err = python_syntax(&project).expect_err("a syntax error").to_string();
        let line = text.lines().position(|l| l == "def rule() -> dict:").expect("the line") + 1;
        assert!(
            err.starts_with(&format!(
                "app.py:{line}:19: SyntaxError: expected ':'\n    def rule() -> dict\n"
            )),
            "{err}"
        );
    }
}
