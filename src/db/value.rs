//! [`Value`]: what a query binds and a row holds, the same for both engines.

/// A value bound to a query or read from a row: the two types the schema uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A `BIGINT`.
    Int(i64),
    /// A `TEXT`.
    Text(String),
}

impl Value {
    pub(crate) fn int(&self) -> i64 {
        match self {
            Value::Int(n) => *n,
            Value::Text(t) => t.parse().unwrap_or(0),
        }
    }

    pub(crate) fn text(self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Text(t) => t,
        }
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<&str> for Value {
    fn from(t: &str) -> Value {
        Value::Text(t.to_owned())
    }
}

impl From<String> for Value {
    fn from(t: String) -> Value {
        Value::Text(t)
    }
}
