//! Execution roles and the instance profile.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::catalog::iam as ops;
use crate::error::AwsError;
use crate::session::Session;
use crate::tags::Tags;

/// How long to keep retrying a call that fails only because IAM has not
/// yet propagated a role or profile created moments ago.
pub const PROPAGATION_BUDGET: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleState {
    pub arn: String,
    pub tags: Tags,
    pub trust: serde_json::Value,
    /// Inline policies by name.
    pub inline: BTreeMap<String, serde_json::Value>,
    /// Attached managed policy ARNs.
    pub attached: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileState {
    pub arn: String,
    pub roles: Vec<String>,
    pub tags: Tags,
}

pub struct Iam<'a> {
    session: &'a Session,
    client: aws_sdk_iam::Client,
}

/// IAM returns policy documents URL-encoded (RFC 3986); some servers send
/// them plain. Accept both.
pub fn decode_policy(doc: &str) -> serde_json::Value {
    serde_json::from_str(doc)
        .or_else(|_| serde_json::from_str(&percent_decode(doc)))
        .unwrap_or_else(|_| serde_json::Value::String(doc.to_string()))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn iam_tags(tags: &Tags) -> Vec<aws_sdk_iam::types::Tag> {
    tags.iter().map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().expect("set")).collect()
}

fn no_such_entity(e: &AwsError) -> bool {
    e.code() == Some("NoSuchEntity")
}

impl<'a> Iam<'a> {
    pub fn new(session: &'a Session) -> Self {
        Self { session, client: session.iam_client() }
    }

    pub async fn observe_role(&self, name: &str) -> Result<Option<RoleState>, AwsError> {
        let role = match self.session.call(ops::GET_ROLE, Some(name), self.client.get_role().role_name(name).send()).await {
            Ok(out) => out.role.expect("GetRole returns a role"),
            Err(e) if no_such_entity(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let (names, attached) = tokio::join!(
            self.session.call(ops::LIST_ROLE_POLICIES, Some(name), self.client.list_role_policies().role_name(name).send()),
            self.session.call(
                ops::LIST_ATTACHED_ROLE_POLICIES,
                Some(name),
                self.client.list_attached_role_policies().role_name(name).send()
            ),
        );
        let mut inline = BTreeMap::new();
        for policy in names?.policy_names() {
            let req = self.client.get_role_policy().role_name(name).policy_name(policy).send();
            let out = self.session.call(ops::GET_ROLE_POLICY, Some(name), req).await?;
            inline.insert(policy.clone(), decode_policy(out.policy_document()));
        }
        Ok(Some(RoleState {
            arn: role.arn().to_string(),
            tags: role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
            trust: decode_policy(role.assume_role_policy_document().unwrap_or("{}")),
            inline,
            attached: attached?.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)).collect(),
        }))
    }

    pub async fn create_role(&self, name: &str, description: &str, trust: &serde_json::Value, tags: &Tags) -> Result<String, AwsError> {
        let req = self
            .client
            .create_role()
            .role_name(name)
            .description(description)
            .assume_role_policy_document(trust.to_string())
            .set_tags(Some(iam_tags(tags)))
            .send();
        let out = self.session.call(ops::CREATE_ROLE, Some(name), req).await?;
        Ok(out.role.map(|r| r.arn).unwrap_or_default())
    }

    pub async fn update_trust(&self, name: &str, trust: &serde_json::Value) -> Result<(), AwsError> {
        let req = self.client.update_assume_role_policy().role_name(name).policy_document(trust.to_string()).send();
        self.session.call(ops::UPDATE_ASSUME_ROLE_POLICY, Some(name), req).await.map(drop)
    }

    /// Put an inline policy, retrying while a just-created role propagates.
    pub async fn put_inline(&self, role: &str, policy_name: &str, doc: &serde_json::Value) -> Result<(), AwsError> {
        crate::retry::on_codes(&["NoSuchEntity"], PROPAGATION_BUDGET, || {
            let req = self.client.put_role_policy().role_name(role).policy_name(policy_name).policy_document(doc.to_string()).send();
            self.session.call(ops::PUT_ROLE_POLICY, Some(role), req)
        })
        .await
        .map(drop)
    }

    pub async fn delete_inline(&self, role: &str, policy_name: &str) -> Result<(), AwsError> {
        let req = self.client.delete_role_policy().role_name(role).policy_name(policy_name).send();
        match self.session.call(ops::DELETE_ROLE_POLICY, Some(role), req).await {
            Err(e) if no_such_entity(&e) => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn detach(&self, role: &str, policy_arn: &str) -> Result<(), AwsError> {
        let req = self.client.detach_role_policy().role_name(role).policy_arn(policy_arn).send();
        match self.session.call(ops::DETACH_ROLE_POLICY, Some(role), req).await {
            Err(e) if no_such_entity(&e) => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn tag_role(&self, name: &str, tags: &Tags) -> Result<(), AwsError> {
        let req = self.client.tag_role().role_name(name).set_tags(Some(iam_tags(tags))).send();
        self.session.call(ops::TAG_ROLE, Some(name), req).await.map(drop)
    }

    pub async fn delete_role(&self, name: &str) -> Result<(), AwsError> {
        match self.session.call(ops::DELETE_ROLE, Some(name), self.client.delete_role().role_name(name).send()).await {
            Err(e) if no_such_entity(&e) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Names of roles whose name starts with `prefix`.
    pub async fn roles_with_prefix(&self, prefix: &str) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let req = self.client.list_roles().set_marker(marker.take()).send();
            let out = self.session.call(ops::LIST_ROLES, None, req).await?;
            names.extend(out.roles().iter().map(|r| r.role_name().to_string()).filter(|n| n.starts_with(prefix)));
            match out.marker() {
                Some(m) if out.is_truncated() => marker = Some(m.to_string()),
                _ => return Ok(names),
            }
        }
    }

    pub async fn observe_profile(&self, name: &str) -> Result<Option<ProfileState>, AwsError> {
        let req = self.client.get_instance_profile().instance_profile_name(name).send();
        match self.session.call(ops::GET_INSTANCE_PROFILE, Some(name), req).await {
            Ok(out) => {
                let p = out.instance_profile.expect("GetInstanceProfile returns a profile");
                Ok(Some(ProfileState {
                    arn: p.arn().to_string(),
                    roles: p.roles().iter().map(|r| r.role_name().to_string()).collect(),
                    tags: p.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
                }))
            }
            Err(e) if no_such_entity(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn create_profile(&self, name: &str, tags: &Tags) -> Result<(), AwsError> {
        let req = self.client.create_instance_profile().instance_profile_name(name).set_tags(Some(iam_tags(tags))).send();
        self.session.call(ops::CREATE_INSTANCE_PROFILE, Some(name), req).await.map(drop)
    }

    pub async fn tag_profile(&self, name: &str, tags: &Tags) -> Result<(), AwsError> {
        let req = self.client.tag_instance_profile().instance_profile_name(name).set_tags(Some(iam_tags(tags))).send();
        self.session.call(ops::TAG_INSTANCE_PROFILE, Some(name), req).await.map(drop)
    }

    /// Put `role` in the profile, retrying while either propagates.
    pub async fn add_role_to_profile(&self, profile: &str, role: &str) -> Result<(), AwsError> {
        crate::retry::on_codes(&["NoSuchEntity"], PROPAGATION_BUDGET, || {
            let req = self.client.add_role_to_instance_profile().instance_profile_name(profile).role_name(role).send();
            self.session.call(ops::ADD_ROLE_TO_INSTANCE_PROFILE, Some(profile), req)
        })
        .await
        .map(drop)
    }

    pub async fn remove_role_from_profile(&self, profile: &str, role: &str) -> Result<(), AwsError> {
        let req = self.client.remove_role_from_instance_profile().instance_profile_name(profile).role_name(role).send();
        match self.session.call(ops::REMOVE_ROLE_FROM_INSTANCE_PROFILE, Some(profile), req).await {
            Err(e) if no_such_entity(&e) => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn delete_profile(&self, name: &str) -> Result<(), AwsError> {
        let req = self.client.delete_instance_profile().instance_profile_name(name).send();
        match self.session.call(ops::DELETE_INSTANCE_PROFILE, Some(name), req).await {
            Err(e) if no_such_entity(&e) => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn profiles_with_prefix(&self, prefix: &str) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let req = self.client.list_instance_profiles().set_marker(marker.take()).send();
            let out = self.session.call(ops::LIST_INSTANCE_PROFILES, None, req).await?;
            names.extend(
                out.instance_profiles().iter().map(|p| p.instance_profile_name().to_string()).filter(|n| n.starts_with(prefix)),
            );
            match out.marker() {
                Some(m) if out.is_truncated() => marker = Some(m.to_string()),
                _ => return Ok(names),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode_policy;

    #[test]
    fn policies_decode_from_url_encoding_or_plain_json() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(decode_policy(plain), decode_policy(encoded));
        assert_eq!(decode_policy(plain)["Version"], "2012-10-17");
    }
}
