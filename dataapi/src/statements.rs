//! Statement boundaries: the hosted service runs one statement per ExecuteStatement or
//! BatchExecuteStatement call ("Multistatements aren't supported."), while ExecuteSql runs a script.
//!
//! A `;` ends a statement unless it is inside a literal, a comment, a PostgreSQL dollar quote, or
//! the compound body of a routine: MySQL `CREATE PROCEDURE|FUNCTION|TRIGGER|EVENT ... BEGIN ... END`
//! (and MariaDB's `BEGIN NOT ATOMIC ... END`), PostgreSQL `BEGIN ATOMIC ... END`, SQLite
//! `CREATE TRIGGER ... BEGIN ... END`. Such a statement is one statement, as on the hosted service.

use crate::dialect::Dialect;
use crate::errors::ApiError;
use crate::lexer::{scan, Token};

/// The hosted service's message for a call with more than one statement, a `ValidationException`
/// ("Comparing Data API behaviors", Aurora Serverless v2 and provisioned).
pub(crate) const MULTISTATEMENT_MESSAGE: &str = "Multistatements aren't supported.";

/// How many leading words of a `CREATE` may precede the routine keyword
/// (`CREATE OR REPLACE DEFINER = root@localhost AGGREGATE FUNCTION`, `CREATE TEMP TRIGGER`).
const ROUTINE_HEADER_WORDS: usize = 8;

/// The statements of `sql`, each without its terminating `;`; empty ones are dropped.
pub(crate) fn split(sql: &str, dialect: Dialect) -> Vec<&str> {
    let mut tokens = Vec::new();
    scan(sql, dialect, |t| tokens.push(t));
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word { start, end }) => Some(sql[*start..*end].to_ascii_uppercase()),
        _ => None,
    };
    // A MySQL `IF`, `REPEAT`, `WHILE` or `LOOP` opens a block only where a statement of the
    // body starts (after `;`, a label's `:`, or BEGIN/THEN/ELSE/DO/...): elsewhere it is the
    // `IF()` / `REPEAT()` function or part of `IF [NOT] EXISTS`. `IF (cond) THEN` is a block.
    let starts_body_statement = |i: usize| match i.checked_sub(1).and_then(|p| tokens.get(p)) {
        Some(Token::Semicolon(_)) => true,
        Some(Token::Other(at)) => sql[*at..].starts_with(':'),
        Some(Token::Word { .. }) => matches!(
            word(i - 1).as_deref(),
            Some("BEGIN" | "ATOMIC" | "THEN" | "ELSE" | "DO" | "LOOP" | "REPEAT")
        ),
        _ => false,
    };

    let mut parts = Vec::new();
    let mut from = 0;
    let mut words = 0usize; // words seen in the current statement
    let mut first = None::<String>;
    let mut routine = false;
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        match tokens[i] {
            Token::Semicolon(at) if depth == 0 => {
                parts.push(&sql[from..at]);
                from = at + 1;
                (words, first, routine) = (0, None, false);
            }
            Token::Word { .. } => {
                words += 1;
                let in_header = first.as_deref() == Some("CREATE") && words <= ROUTINE_HEADER_WORDS;
                // Most statements are decided by their first word: spell out only the words that matter.
                if !(words == 1 || routine || in_header) {
                    i += 1;
                    continue;
                }
                let w = word(i).unwrap_or_default();
                if words == 1 {
                    routine = dialect == Dialect::MySql
                        && w == "BEGIN"
                        && word(i + 1).as_deref() == Some("NOT");
                    first = Some(w.clone());
                } else if !routine && in_header {
                    routine = matches!(w.as_str(), "PROCEDURE" | "FUNCTION" | "TRIGGER" | "EVENT");
                }
                if routine {
                    let opens = match (dialect, w.as_str()) {
                        (_, "CASE") => true,
                        (Dialect::Postgres, "BEGIN") => word(i + 1).as_deref() == Some("ATOMIC"),
                        (_, "BEGIN") => true,
                        (Dialect::MySql, "IF" | "REPEAT" | "WHILE" | "LOOP") => {
                            starts_body_statement(i)
                        }
                        _ => false,
                    };
                    if opens {
                        depth += 1;
                    } else if w == "END" && depth > 0 {
                        depth -= 1;
                        // `END IF`, `END LOOP`, ... close the block they name.
                        if dialect == Dialect::MySql
                            && matches!(
                                word(i + 1).as_deref(),
                                Some("IF" | "CASE" | "LOOP" | "WHILE" | "REPEAT")
                            )
                        {
                            i += 1;
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&sql[from..]);
    parts
        .into_iter()
        .filter(|s| !is_blank(s, dialect))
        .collect()
}

/// Only whitespace and comments.
fn is_blank(sql: &str, dialect: Dialect) -> bool {
    let mut any = false;
    scan(sql, dialect, |_| any = true);
    !any
}

/// The single statement of an ExecuteStatement/BatchExecuteStatement call, without a trailing `;`.
pub(crate) fn single(sql: &str, dialect: Dialect) -> Result<&str, ApiError> {
    let statements = split(sql, dialect);
    match statements.as_slice() {
        [] => Ok(sql),
        [one] => Ok(one),
        _ => Err(ApiError::Validation(MULTISTATEMENT_MESSAGE.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(sql: &str, dialect: Dialect) -> usize {
        split(sql, dialect).len()
    }

    #[test]
    fn semicolons_outside_statements_count() {
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql] {
            assert_eq!(count("select 1; select 2", d), 2, "{d:?}");
            assert_eq!(count("select 1;", d), 1, "{d:?}");
            assert_eq!(count("select 1 ;  ;\n -- done\n", d), 1, "{d:?}");
            assert_eq!(count("select ';' -- ;\n /* ; */", d), 1, "{d:?}");
            assert_eq!(count("select 1; select 2;", d), 2, "{d:?}");
        }
        assert_eq!(single("select 1; ", Dialect::Sqlite).unwrap(), "select 1");
        assert_eq!(
            single("select 1; select 2", Dialect::MySql).unwrap_err(),
            ApiError::Validation(MULTISTATEMENT_MESSAGE.into())
        );
    }

    #[test]
    fn postgres_bodies_are_one_statement() {
        let pg = Dialect::Postgres;
        let dollar = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; RETURN 2; END $$;";
        assert_eq!(count(dollar, pg), 1);
        assert_eq!(count(&format!("{dollar} select 1"), pg), 2);
        let atomic = "CREATE OR REPLACE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END";
        assert_eq!(count(atomic, pg), 1);
        // A plain BEGIN is a statement of its own.
        assert_eq!(count("BEGIN; SELECT 1", pg), 2);
    }

    #[test]
    fn mysql_compound_bodies_are_one_statement() {
        let my = Dialect::MySql;
        let procedure = "CREATE DEFINER = CURRENT_USER PROCEDURE p(IN n INT)
            BEGIN
              DECLARE i INT DEFAULT 0;
              DROP TEMPORARY TABLE IF EXISTS tmp;
              CREATE TEMPORARY TABLE IF NOT EXISTS tmp (a INT);
              lbl: LOOP
                SET i = i + 1;
                IF i > n THEN LEAVE lbl; ELSEIF i = 2 THEN SET i = IF(i > 1, i, 0); END IF;
              END LOOP lbl;
              WHILE i > 0 DO SET i = i - 1; END WHILE;
              REPEAT SET i = i + 1; UNTIL i > 3 END REPEAT;
              SELECT REPEAT('x', 2), CASE WHEN i > 0 THEN 1 ELSE 0 END;
              CASE i WHEN 1 THEN SET i = 2; ELSE BEGIN END; END CASE;
            END";
        assert_eq!(count(procedure, my), 1);
        assert_eq!(count(&format!("{procedure};"), my), 1);
        assert_eq!(count(&format!("{procedure}; SELECT 1"), my), 2);
        let trigger = "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END";
        assert_eq!(count(trigger, my), 1);
        // `IF (cond) THEN` is a block even with its condition in parentheses.
        let guarded = "CREATE TRIGGER boom BEFORE INSERT ON x FOR EACH ROW BEGIN \
            IF (SELECT name FROM y WHERE id = NEW.id) = 'boom' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom'; END IF; END";
        assert_eq!(count(guarded, my), 1);
        assert_eq!(count(&format!("{guarded}; SELECT 1"), my), 2);
        // Without a compound body the routine ends at its `;`.
        assert_eq!(
            count("CREATE FUNCTION f() RETURNS INT RETURN 1; SELECT f()", my),
            2
        );
        assert_eq!(count("BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", my), 1);
        // A table with such column names is not a routine.
        assert_eq!(
            count("CREATE TABLE b (`begin` INT, ends INT); SELECT 1", my),
            2
        );
    }

    #[test]
    fn sqlite_trigger_bodies_are_one_statement() {
        let trigger = "CREATE TEMP TRIGGER IF NOT EXISTS t AFTER INSERT ON x BEGIN UPDATE y SET n = n + 1; DELETE FROM z; END";
        assert_eq!(count(trigger, Dialect::Sqlite), 1);
        assert_eq!(count(&format!("{trigger}; SELECT 1"), Dialect::Sqlite), 2);
    }
}
