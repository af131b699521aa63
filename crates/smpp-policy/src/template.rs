//! Message templates: `{{name}}様 ご利用代金{{amount}}円のお支払いを確認できておりません。`
//!
//! A placeholder is `{{` name `}}`; spaces inside the braces are ignored. A name is letters
//! (any script, so `{{氏名}}` works with a Japanese CSV header), digits, `_` and `-`. There
//! is no escape: `{{` always opens a placeholder and a `}}` outside one is an error, which
//! catches `{name}}`-style typos. Single `{` and `}` are ordinary text.

use std::collections::HashMap;

/// A template that could not be parsed. Positions are 1-based character offsets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// `{{` without `}}`.
    #[error("unclosed '{{{{' at character {position}")]
    Unclosed {
        /// Where the `{{` starts.
        position: usize,
    },
    /// `}}` with no `{{` before it.
    #[error("'}}}}' without '{{{{' at character {position}")]
    UnexpectedClose {
        /// Where the `}}` starts.
        position: usize,
    },
    /// A placeholder name that is empty or has other characters.
    #[error("invalid placeholder name {name:?} at character {position}")]
    BadName {
        /// The text between the braces.
        name: String,
        /// Where the `{{` starts.
        position: usize,
    },
}

/// Fields a template needs that were not given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing field(s): {}", names.join(", "))]
pub struct MissingField {
    /// The missing placeholder names, in template order, each once.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses a template.
    ///
    /// # Errors
    /// [`TemplateError`] with the character position.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use smpp_policy::template::Template;
    /// let t = Template::parse("{{name}}様 {{amount}}円")?;
    /// assert_eq!(t.placeholders(), ["name", "amount"]);
    /// let fields = HashMap::from([("name".to_string(), "山田".to_string()), ("amount".to_string(), "12,000".to_string())]);
    /// assert_eq!(t.render(&fields)?, "山田様 12,000円");
    /// assert_eq!(Template::parse("{{name様").unwrap_err().to_string(), "unclosed '{{' at character 1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let pair = |j: usize, c: char| chars.get(j) == Some(&c) && chars.get(j + 1) == Some(&c);
            if pair(i, '{') {
                let start = i;
                let mut j = i + 2;
                while j < chars.len() && !pair(j, '}') {
                    if pair(j, '{') {
                        return Err(TemplateError::Unclosed { position: start + 1 });
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(TemplateError::Unclosed { position: start + 1 });
                }
                let raw: String = chars[i + 2..j].iter().collect();
                let name = raw.trim();
                let valid = !name.is_empty()
                    && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
                if !valid {
                    return Err(TemplateError::BadName { name: raw, position: start + 1 });
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Field(name.to_owned()));
                i = j + 2;
            } else if pair(i, '}') {
                return Err(TemplateError::UnexpectedClose { position: i + 1 });
            } else {
                literal.push(chars[i]);
                i += 1;
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template { pieces })
    }

    /// Placeholder names in order of first use, each once.
    pub fn placeholders(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for p in &self.pieces {
            if let Piece::Field(n) = p {
                if !seen.contains(&n.as_str()) {
                    seen.push(n);
                }
            }
        }
        seen
    }

    /// Fills in the placeholders. Values are inserted as they are (never parsed as
    /// templates). An empty value is allowed here; batch validation treats empty CSV cells
    /// as missing.
    ///
    /// # Errors
    /// [`MissingField`] listing every placeholder without a value.
    pub fn render(&self, fields: &HashMap<String, String>) -> Result<String, MissingField> {
        self.render_with(|name| fields.get(name).map(String::as_str))
    }

    /// [`Template::render`] with values from a function.
    ///
    /// # Errors
    /// [`MissingField`] listing every placeholder for which `value` returned `None`.
    pub fn render_with<'a>(
        &self,
        value: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<String, MissingField> {
        let mut out = String::new();
        let mut missing: Vec<String> = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(n) => match value(n) {
                    Some(v) => out.push_str(v),
                    None if !missing.contains(n) => missing.push(n.clone()),
                    None => {}
                },
            }
        }
        if missing.is_empty() {
            Ok(out)
        } else {
            Err(MissingField { names: missing })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(kv: &[(&str, &str)]) -> HashMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn renders_japanese_template() {
        let t = Template::parse(
            "【ABCカード】{{ name }}様 ご請求額{{amount}}円、期日{{due}}。{{name}}様",
        )
        .unwrap();
        assert_eq!(t.placeholders(), ["name", "amount", "due"]);
        let out =
            t.render(&fields(&[("name", "佐藤"), ("amount", "5,400"), ("due", "11/27")])).unwrap();
        assert_eq!(out, "【ABCカード】佐藤様 ご請求額5,400円、期日11/27。佐藤様");
    }

    #[test]
    fn japanese_placeholder_names_work() {
        let t = Template::parse("{{氏名}}様").unwrap();
        assert_eq!(t.render(&fields(&[("氏名", "田中")])).unwrap(), "田中様");
    }

    #[test]
    fn lists_every_missing_field_once() {
        let t = Template::parse("{{a}}{{b}}{{a}}{{c}}").unwrap();
        let err = t.render(&fields(&[("b", "")])).unwrap_err();
        assert_eq!(err.names, ["a", "c"]);
        assert_eq!(err.to_string(), "missing field(s): a, c");
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(Template::parse("ab{{x").unwrap_err(), TemplateError::Unclosed { position: 3 });
        assert_eq!(
            Template::parse("{{a}} {{b {{c}}").unwrap_err(),
            TemplateError::Unclosed { position: 7 }
        );
        assert_eq!(
            Template::parse("様{name}}").unwrap_err().to_string(),
            "'}}' without '{{' at character 7"
        );
        assert_eq!(
            Template::parse("x{{ }}").unwrap_err(),
            TemplateError::BadName { name: " ".into(), position: 2 }
        );
        assert!(matches!(Template::parse("{{a b}}"), Err(TemplateError::BadName { .. })));
    }

    #[test]
    fn single_braces_and_values_with_braces_are_text() {
        let t = Template::parse("{x} {{v}}").unwrap();
        assert_eq!(t.placeholders(), ["v"]);
        assert_eq!(t.render(&fields(&[("v", "{{w}}")])).unwrap(), "{x} {{w}}");
    }

    proptest! {
        #[test]
        fn text_without_double_braces_renders_unchanged(s in "[^{}]{0,80}") {
            let t = Template::parse(&s).unwrap();
            prop_assert!(t.placeholders().is_empty());
            prop_assert_eq!(t.render(&HashMap::new()).unwrap(), s);
        }

        #[test]
        fn never_panics(s in "[a{}b ]{0,40}") {
            let _ = Template::parse(&s);
        }
    }
}
