//! Dialplan problems, each with the file and line at fault.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file at fault.
    pub file: PathBuf,
    /// The 1-based line, when the problem is on one line.
    pub line: Option<usize>,
    /// What is wrong, for the person who edits the file.
    pub message: String,
}

impl Problem {
    /// A problem at a line of a file.
    pub fn at(file: &Path, line: usize, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_path_buf(),
            line: Some(line),
            message: message.into(),
        }
    }

    /// A problem with a whole file.
    pub fn file(file: &Path, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_path_buf(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// A dialplan that cannot be used, with every problem found.
#[derive(Debug, Clone)]
pub struct DialplanError {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl DialplanError {
    /// Wraps the problems found (at least one).
    pub fn new(problems: Vec<Problem>) -> DialplanError {
        DialplanError { problems }
    }
}

impl fmt::Display for DialplanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the dialplan has {} problem(s):", self.problems.len())?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DialplanError {}

/// The 1-based line of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads a dialplan file, noting a problem when it cannot be read.
pub(crate) fn read(path: &Path, problems: &mut Vec<Problem>) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) => {
            problems.push(Problem::file(path, format!("cannot read: {e}")));
            None
        }
    }
}

/// Parses a TOML file, noting a syntax problem with its line.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    problems: &mut Vec<Problem>,
) -> Option<(String, T)> {
    let text = read(path, problems)?;
    match toml::from_str::<T>(&text) {
        Ok(value) => Some((text, value)),
        Err(e) => {
            let message = e.message().to_string();
            problems.push(match e.span() {
                Some(span) => Problem::at(path, line_of(&text, span.start), message),
                None => Problem::file(path, message),
            });
            None
        }
    }
}
