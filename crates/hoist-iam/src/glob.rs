//! IAM wildcards: `*` matches any run of characters (none included), `?`
//! exactly one.

pub fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    // ARNs and action names are ASCII: match bytes without allocating.
    if pattern.is_ascii() && text.is_ascii() {
        return match_units(pattern.as_bytes(), text.as_bytes(), |a, b| {
            if ignore_case { a.eq_ignore_ascii_case(&b) } else { a == b }
        }, b'*', b'?');
    }
    let fold = |c: char| if ignore_case { c.to_ascii_lowercase() } else { c };
    let p: Vec<char> = pattern.chars().map(fold).collect();
    let t: Vec<char> = text.chars().map(fold).collect();
    match_units(&p, &t, |a, b| a == b, '*', '?')
}

fn match_units<T: Copy + PartialEq>(p: &[T], t: &[T], eq: impl Fn(T, T) -> bool, star_unit: T, any_unit: T) -> bool {
    // Iterative matching with one backtrack point (the last `*`): linear in
    // practice, no recursion to blow the stack on hostile input.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] != star_unit && (p[pi] == any_unit || eq(p[pi], t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star_unit {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == star_unit {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards() {
        assert!(matches("s3:*", "s3:GetObject", false));
        assert!(matches("s3:Get*", "s3:GetObject", false));
        assert!(!matches("s3:Get*", "s3:PutObject", false));
        assert!(matches("S3:getobject", "s3:GetObject", true));
        assert!(!matches("S3:getobject", "s3:GetObject", false));
        assert!(matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c", false));
        assert!(matches("arn:aws:s3:::b/?", "arn:aws:s3:::b/x", false));
        assert!(!matches("arn:aws:s3:::b/?", "arn:aws:s3:::b/xy", false));
        assert!(matches("*", "", false));
        assert!(matches("a*b*c", "aXXbYYc", false));
        assert!(!matches("a*b*c", "aXXbYY", false));
        assert!(matches("*a*a*a*a*a*b", &("a".repeat(40) + "b"), false));
    }
}
