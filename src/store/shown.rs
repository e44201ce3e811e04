//! `--data` as people see it: a database URL without its password.

use super::is_database_url;
use std::path::Path;

/// `--data` as messages and logs show it: a PostgreSQL URL's password, in its user
/// part or as a `password=` parameter, becomes `***` (read as tokio-postgres reads
/// the URL: the user part ends at the first `@`, even past a `/` or `?` in the
/// password; parameter names may be percent-encoded); a directory is shown as it is.
pub fn shown(data: &Path) -> String {
    let text = data.display().to_string();
    let Some((scheme, rest)) = text.split_once("://").filter(|_| is_database_url(&text)) else {
        return text;
    };
    let rest = match rest.split_once('@') {
        Some((user, after)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{after}"),
            None => rest.to_owned(),
        },
        None => rest.to_owned(),
    };
    let rest = match rest.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((key, _)) if decoded(key).eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => param.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => rest,
    };
    format!("{scheme}://{rest}")
}

/// `text` with its `%XX` escapes decoded (lossily: for comparing names only).
fn decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::shown;
    use std::path::Path;

    #[test]
    fn a_database_url_is_shown_without_its_password() {
        for (given, seen) in [
            (
                "postgres://shop:s3cret@db.example:5432/sportello",
                "postgres://shop:***@db.example:5432/sportello",
            ),
            (
                "postgresql://shop:p%40ss@a:5432,b:5433/sportello?sslmode=require",
                "postgresql://shop:***@a:5432,b:5433/sportello?sslmode=require",
            ),
            (
                "postgres://shop@db/sportello?sslmode=disable&password=s3cret&application_name=x",
                "postgres://shop@db/sportello?sslmode=disable&password=***&application_name=x",
            ),
            // tokio-postgres reads the user part up to the first `@`, past a `/`...
            (
                "postgres://shop:aB3/xY+z@db/sportello",
                "postgres://shop:***@db/sportello",
            ),
            (
                "postgres://shop:a?b@db/sportello",
                "postgres://shop:***@db/sportello",
            ),
            // ...and decodes parameter names.
            (
                "postgres://shop@db/sportello?pass%77ord=s3cret",
                "postgres://shop@db/sportello?pass%77ord=***",
            ),
            (
                "postgresql://shop:s3cret@[::1]:5432/sportello",
                "postgresql://shop:***@[::1]:5432/sportello",
            ),
            ("postgres://db/sportello", "postgres://db/sportello"),
            ("./data:with:colons@x", "./data:with:colons@x"),
        ] {
            assert_eq!(shown(Path::new(given)), seen, "{given}");
        }
    }
}
