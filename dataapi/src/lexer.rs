//! A small SQL lexer shared by parameter binding and statement splitting: it finds `:name`
//! placeholders, `;` and words outside string literals, quoted identifiers, comments, PostgreSQL
//! dollar quotes and `::` casts.

use crate::dialect::Dialect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// `:name` spanning `start..end` (the colon included).
    Param {
        start: usize,
        end: usize,
    },
    Semicolon(usize),
    /// A bare word (keyword or identifier) spanning `start..end`.
    Word {
        start: usize,
        end: usize,
    },
    /// Anything else but whitespace and comments: a literal, a quoted name, a number, punctuation.
    Other(usize),
}

pub(crate) fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

pub(crate) fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether the `:` at `colon` opens a placeholder. Named ones (`:id`) always do; numbered ones
/// (`:0`, sent by query builders) unless glued to a name, a number or a bracket, so that
/// PostgreSQL array slices such as `a[1:2]` stay intact.
fn placeholder_at(b: &[u8], colon: usize) -> bool {
    match b.get(colon + 1) {
        Some(&c) if is_ident_start(c) => true,
        Some(c) if c.is_ascii_digit() => {
            let before = colon.checked_sub(1).map(|i| b[i]);
            !matches!(before, Some(c) if is_ident(c) || matches!(c, b'[' | b']' | b')'))
        }
        _ => false,
    }
}

/// Calls `on` for each token of `sql`, in order.
pub(crate) fn scan(sql: &str, dialect: Dialect, mut on: impl FnMut(Token)) {
    let b = sql.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = match c {
            b'-' if at(i + 1) == b'-' => skip_line(b, i),
            b'#' if dialect == Dialect::MySql => skip_line(b, i),
            b'/' if at(i + 1) == b'*' => skip_block_comment(b, i, dialect == Dialect::Postgres),
            c if c.is_ascii_whitespace() => i + 1,
            b':' if at(i + 1) == b':' => i + 2,
            b':' if placeholder_at(b, i) => {
                let end = ident_end(b, i + 1);
                on(Token::Param { start: i, end });
                end
            }
            b';' => {
                on(Token::Semicolon(i));
                i + 1
            }
            c if is_ident_start(c) => {
                let end = ident_end(b, i);
                on(Token::Word { start: i, end });
                end
            }
            _ => {
                on(Token::Other(i));
                match c {
                    b'\'' => {
                        // PostgreSQL only honours backslash escapes in E'...' strings; MySQL always does.
                        let escape_string = i > 0
                            && matches!(b[i - 1], b'E' | b'e')
                            && (i < 2 || !is_ident(b[i - 2]));
                        let backslash = dialect == Dialect::MySql
                            || (dialect == Dialect::Postgres && escape_string);
                        skip_quoted(b, i, b'\'', backslash)
                    }
                    b'"' => skip_quoted(b, i, b'"', dialect == Dialect::MySql),
                    b'`' if dialect != Dialect::Postgres => skip_quoted(b, i, b'`', false),
                    b'[' if dialect == Dialect::Sqlite => skip_quoted(b, i, b']', false),
                    b'$' if dialect == Dialect::Postgres => skip_dollar_quote(b, i),
                    // Numbers (and the letters of `1e5`) are not words.
                    c if c.is_ascii_digit() => ident_end(b, i),
                    _ => i + 1,
                }
            }
        };
        i = next;
    }
}

fn ident_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| !is_ident(c))
        .map_or(b.len(), |p| from + p)
}

/// Index just past the quoted run starting at `start` (doubled quotes stay inside).
fn skip_quoted(b: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        if backslash && b[i] == b'\\' {
            i += 2;
        } else if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

fn skip_line(b: &[u8], start: usize) -> usize {
    b[start..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| start + p + 1)
}

fn skip_block_comment(b: &[u8], start: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < b.len() {
        if b[i] == b'/' && b[i + 1] == b'*' && (nested || depth == 0) {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// `$tag$ ... $tag$` (tag may be empty); a `$1` placeholder or lone `$` is ordinary text.
fn skip_dollar_quote(b: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while j < b.len() && is_ident(b[j]) {
        j += 1;
    }
    let tag_ok = j < b.len() && b[j] == b'$' && (j == start + 1 || is_ident_start(b[start + 1]));
    if !tag_ok {
        return start + 1;
    }
    let tag = &b[start..=j];
    b[j + 1..]
        .windows(tag.len())
        .position(|w| w == tag)
        .map_or(b.len(), |p| j + 1 + p + tag.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(sql: &str, dialect: Dialect) -> Vec<&str> {
        let mut found = Vec::new();
        scan(sql, dialect, |t| {
            if let Token::Param { start, end } = t {
                found.push(&sql[start..end]);
            }
        });
        found
    }

    #[test]
    fn numbered_placeholders_where_values_stand() {
        assert_eq!(
            params(
                "select :0, :1 where a = :10 and b in (:2)",
                Dialect::Postgres
            ),
            vec![":0", ":1", ":10", ":2"]
        );
        // Array slices keep their bounds; names still work inside them.
        assert_eq!(
            params("select a[1:2], a[:3], a[x:4], a[1:n]", Dialect::Postgres),
            vec![":n"]
        );
        assert_eq!(
            params("select ':0', \"c:1\", `d:2` -- :3", Dialect::MySql),
            Vec::<&str>::new()
        );
        assert_eq!(params("select [e:4], :5", Dialect::Sqlite), vec![":5"]);
    }
}
