//! Config errors with positions, rendered like a compiler diagnostic:
//!
//! ```text
//! error: unknown field `timeout`, expected one of `path`, `kind`, `timeout_ms`, …
//!   --> router.toml:12:1
//!    |
//! 12 | timeout = 5
//!    | ^^^^^^^
//! ```

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem, before it is tied to a file: a message and the byte span it concerns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub(crate) message: String,
    pub(crate) span: Option<Range<usize>>,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>, span: Option<Range<usize>>) -> Problem {
        Problem {
            message: message.into(),
            span,
        }
    }

    pub(crate) fn at(message: impl Into<String>, span: Range<usize>) -> Problem {
        Problem {
            message: message.into(),
            span: Some(span),
        }
    }
}

impl From<toml::de::Error> for Problem {
    fn from(e: toml::de::Error) -> Problem {
        Problem {
            message: e.message().trim_end().to_string(),
            span: e.span(),
        }
    }
}

/// One config error with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// The offending source line and caret underline, when known.
    snippet: Option<(String, usize, usize)>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        match (self.line, self.column) {
            (Some(line), Some(col)) => writeln!(f, "  --> {}:{line}:{col}", self.file.display())?,
            _ => writeln!(f, "  --> {}", self.file.display())?,
        }
        if let (Some(line), Some((text, start, width))) = (self.line, &self.snippet) {
            let gutter = " ".repeat(line.to_string().len());
            writeln!(f, "{gutter} |")?;
            writeln!(f, "{line} | {text}")?;
            writeln!(f, "{gutter} | {}{}", " ".repeat(*start), "^".repeat((*width).max(1)))?;
        }
        Ok(())
    }
}

/// Every error found in one config file, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Errors(pub Vec<Error>);

impl Errors {
    pub(crate) fn new(file: &Path, text: &str, problems: Vec<Problem>) -> Errors {
        let mut errors: Vec<Error> = problems.into_iter().map(|p| locate(file, text, p)).collect();
        errors.sort_by_key(|e| (e.line.unwrap_or(0), e.column.unwrap_or(0)));
        errors.dedup();
        Errors(errors)
    }

    pub(crate) fn io(file: &Path, e: &std::io::Error) -> Errors {
        Errors(vec![Error {
            file: file.to_path_buf(),
            line: None,
            column: None,
            message: format!("cannot read the config file: {e}"),
            snippet: None,
        }])
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        let n = self.0.len();
        write!(
            f,
            "\n{n} error{} in {}",
            if n == 1 { "" } else { "s" },
            self.0.first().map(|e| e.file.display().to_string()).unwrap_or_default()
        )
    }
}

impl std::error::Error for Errors {}

fn locate(file: &Path, text: &str, p: Problem) -> Error {
    let Some(span) = p.span.filter(|s| s.start <= text.len()) else {
        return Error {
            file: file.to_path_buf(),
            line: None,
            column: None,
            message: p.message,
            snippet: None,
        };
    };
    let before = &text[..span.start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    let line_text = text[line_start..line_end].trim_end_matches('\r');
    let col = text[line_start..span.start].chars().count();
    let width = text[span.start..span.end.min(line_end).max(span.start)].chars().count();
    Error {
        file: file.to_path_buf(),
        line: Some(line),
        column: Some(col + 1),
        message: p.message,
        snippet: Some((line_text.to_string(), col, width)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_position_and_caret() {
        let text = "version = 1\n[server]\nlisten = 5\n";
        let start = text.find("5").unwrap();
        let errs = Errors::new(
            Path::new("router.toml"),
            text,
            vec![Problem::at("bad listen", start..start + 1)],
        );
        let e = &errs.0[0];
        assert_eq!((e.line, e.column), (Some(3), Some(10)));
        assert_eq!(
            e.to_string(),
            "error: bad listen\n  --> router.toml:3:10\n  |\n3 | listen = 5\n  |          ^\n"
        );
    }
}
