//! The policy document model.
//!
//! AWS accepts a string or a list for Action, NotAction, Resource,
//! NotResource and condition values; one Statement object or a list; a
//! Principal of `"*"` or a map of principal types to one or more values;
//! condition values that are strings, numbers or booleans. All of them
//! parse here into one shape.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` / `Resource` (the listed ones) or `NotAction` / `NotResource`
/// (everything but the listed ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    Only(Vec<String>),
    AllBut(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"Principal": "*"` or `{"AWS": "*"}`.
    Any,
    /// Principal type (`AWS`, `Service`, `Federated`, `CanonicalUser`) to values.
    Some(BTreeMap<String, Vec<String>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principal>,
    pub not_principal: Option<Principal>,
    pub action: Targets,
    /// `None` in resource-less documents (trust policies).
    pub resource: Option<Targets>,
    /// Operator (e.g. `StringEqualsIfExists`) -> condition key -> values.
    pub condition: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// What is wrong, and where (a JSON-pointer-like path).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ParseError {
    pub path: String,
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> ParseError {
    ParseError { path: path.to_string(), message: message.into() }
}

/// A string, or a non-empty list of strings.
fn strings(v: &Value, path: &str) -> Result<Vec<String>, ParseError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, x)| x.as_str().map(str::to_owned).ok_or_else(|| err(&format!("{path}/{i}"), "expected a string")))
            .collect(),
        Value::Array(_) => Err(err(path, "empty list")),
        _ => Err(err(path, "expected a string or a list of strings")),
    }
}

/// Condition values may also be numbers and booleans; IAM compares their
/// text.
fn condition_values(v: &Value, path: &str) -> Result<Vec<String>, ParseError> {
    let one = |x: &Value, p: &str| match x {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(err(p, "expected a string, number or boolean")),
    };
    match v {
        Value::Array(items) => items.iter().enumerate().map(|(i, x)| one(x, &format!("{path}/{i}"))).collect(),
        other => Ok(vec![one(other, path)?]),
    }
}

fn principal(v: &Value, path: &str) -> Result<Principal, ParseError> {
    match v {
        Value::String(s) if s == "*" => Ok(Principal::Any),
        Value::Object(map) => {
            let mut out = BTreeMap::new();
            for (kind, values) in map {
                let values = strings(values, &format!("{path}/{kind}"))?;
                if kind == "AWS" && values.iter().any(|v| v == "*") {
                    return Ok(Principal::Any);
                }
                out.insert(kind.clone(), values);
            }
            Ok(Principal::Some(out))
        }
        _ => Err(err(path, "expected \"*\" or a map such as {\"AWS\": \"arn:...\"}")),
    }
}

fn targets(map: &Map<String, Value>, name: &str, not_name: &str, path: &str) -> Result<Option<Targets>, ParseError> {
    match (map.get(name), map.get(not_name)) {
        (Some(_), Some(_)) => Err(err(path, format!("has both {name} and {not_name}"))),
        (Some(v), None) => Ok(Some(Targets::Only(strings(v, &format!("{path}/{name}"))?))),
        (None, Some(v)) => Ok(Some(Targets::AllBut(strings(v, &format!("{path}/{not_name}"))?))),
        (None, None) => Ok(None),
    }
}

const STATEMENT_KEYS: &[&str] =
    &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

fn statement(v: &Value, path: &str) -> Result<Statement, ParseError> {
    let Value::Object(map) = v else { return Err(err(path, "a statement must be an object")) };
    if let Some(unknown) = map.keys().find(|k| !STATEMENT_KEYS.contains(&k.as_str())) {
        return Err(err(&format!("{path}/{unknown}"), "unknown statement element"));
    }
    let effect = match map.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => return Err(err(&format!("{path}/Effect"), format!("{other:?}: expected \"Allow\" or \"Deny\""))),
        None => return Err(err(path, "missing Effect")),
    };
    let action = targets(map, "Action", "NotAction", path)?.ok_or_else(|| err(path, "missing Action or NotAction"))?;
    let mut condition = BTreeMap::new();
    if let Some(c) = map.get("Condition") {
        let Value::Object(ops) = c else { return Err(err(&format!("{path}/Condition"), "expected an object")) };
        for (op, keys) in ops {
            let Value::Object(keys) = keys else {
                return Err(err(&format!("{path}/Condition/{op}"), "expected an object of condition keys"));
            };
            crate::condition::check_operator(op).map_err(|m| err(&format!("{path}/Condition/{op}"), m))?;
            let mut block = BTreeMap::new();
            for (key, values) in keys {
                block.insert(key.clone(), condition_values(values, &format!("{path}/Condition/{op}/{key}"))?);
            }
            condition.insert(op.clone(), block);
        }
    }
    Ok(Statement {
        sid: map.get("Sid").and_then(Value::as_str).map(str::to_owned),
        effect,
        principal: map.get("Principal").map(|p| principal(p, &format!("{path}/Principal"))).transpose()?,
        not_principal: map.get("NotPrincipal").map(|p| principal(p, &format!("{path}/NotPrincipal"))).transpose()?,
        action,
        resource: targets(map, "Resource", "NotResource", path)?,
        condition,
    })
}

impl Policy {
    /// Parse a policy document (identity, resource or trust policy).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let v: Value = serde_json::from_str(text).map_err(|e| err("", format!("not JSON: {e}")))?;
        Self::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<Self, ParseError> {
        let Value::Object(map) = v else { return Err(err("", "a policy must be a JSON object")) };
        if let Some(unknown) = map.keys().find(|k| !["Version", "Id", "Statement"].contains(&k.as_str())) {
            return Err(err(&format!("/{unknown}"), "unknown policy element"));
        }
        let version = map.get("Version").map(|v| v.as_str().map(str::to_owned).ok_or_else(|| err("/Version", "expected a string"))).transpose()?;
        if let Some(v) = &version
            && v != "2012-10-17"
            && v != "2008-10-17"
        {
            return Err(err("/Version", format!("{v:?}: expected \"2012-10-17\"")));
        }
        let statements = match map.get("Statement") {
            Some(Value::Array(items)) => {
                items.iter().enumerate().map(|(i, s)| statement(s, &format!("/Statement/{i}"))).collect::<Result<Vec<_>, _>>()?
            }
            Some(single @ Value::Object(_)) => vec![statement(single, "/Statement")?],
            Some(_) => return Err(err("/Statement", "expected an object or a list of objects")),
            None => return Err(err("", "missing Statement")),
        };
        Ok(Self { version, id: map.get("Id").and_then(Value::as_str).map(str::to_owned), statements })
    }

    /// Policy variables like `${aws:username}` are substituted only in
    /// documents of version 2012-10-17.
    pub fn substitutes_variables(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_shape_aws_accepts() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
                "Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10}}}}"#,
        )
        .unwrap();
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.statements[0].action, Targets::Only(vec!["s3:GetObject".into()]));
        assert_eq!(p.statements[0].condition["Bool"]["aws:SecureTransport"], vec!["true"]);
        assert_eq!(p.statements[0].condition["NumericLessThan"]["s3:max-keys"], vec!["10"]);

        let p = Policy::parse(
            r#"{"Statement":[{"Sid":"a","Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":["arn:aws:s3:::b"]},
                {"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","sagemaker.amazonaws.com"]},"Action":"sts:AssumeRole"},
                {"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},
                {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"*"}]}"#,
        )
        .unwrap();
        assert_eq!(p.statements[0].action, Targets::AllBut(vec!["iam:*".into(), "sts:*".into()]));
        assert!(matches!(p.statements[0].resource, Some(Targets::AllBut(_))));
        assert_eq!(p.statements[1].resource, None);
        assert!(matches!(&p.statements[1].principal, Some(Principal::Some(m)) if m["Service"].len() == 2));
        assert_eq!(p.statements[2].principal, Some(Principal::Any));
        assert_eq!(p.statements[3].principal, Some(Principal::Any));
    }

    #[test]
    fn rejects_malformed_documents_with_a_path() {
        for (doc, path) in [
            (r#"{"Statement":[{"Effect":"Permit","Action":"s3:*","Resource":"*"}]}"#, "/Statement/0/Effect"),
            (r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#, "/Statement/0"),
            (r#"{"Statement":[{"Effect":"Allow","Action":"a:b","NotAction":"c:d"}]}"#, "/Statement/0"),
            (r#"{"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}"#, "/Statement/0/Action"),
            (r#"{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*","Condtion":{}}]}"#, "/Statement/0/Condtion"),
            (r#"{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEqualz":{"k":"v"}}}]}"#, "/Statement/0/Condition/StringEqualz"),
            (r#"{"Version":"2020-01-01","Statement":[]}"#, "/Version"),
            (r#"[]"#, ""),
        ] {
            let e = Policy::parse(doc).unwrap_err();
            assert_eq!(e.path, path, "{doc}: {e}");
        }
    }
}
