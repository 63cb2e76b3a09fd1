//! Execution roles and the instance profile.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::catalog::boundary as bops;
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
    /// The permissions boundary's ARN, if the role has one.
    pub boundary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileState {
    pub arn: String,
    pub roles: Vec<String>,
    /// Each role's trust policy, as GetInstanceProfile returns it (so an
    /// administrator's profile is checked without reading its role).
    pub role_trusts: Vec<serde_json::Value>,
    pub tags: Tags,
}

/// A customer-managed policy: its default version's document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyState {
    pub arn: String,
    pub document: serde_json::Value,
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

fn already_exists(e: &AwsError) -> bool {
    e.code() == Some("EntityAlreadyExists")
}

fn no_such_entity(e: &AwsError) -> bool {
    e.code() == Some("NoSuchEntity")
}

impl<'a> Iam<'a> {
    pub fn new(session: &'a Session) -> Self {
        Self { session, client: session.iam_client() }
    }

    /// The role's ARN, if it exists (one GetRole; no policy read).
    pub async fn role_arn(&self, name: &str) -> Result<Option<String>, AwsError> {
        match self.session.call(ops::GET_ROLE, Some(name), self.client.get_role().role_name(name).send()).await {
            Ok(out) => Ok(out.role.map(|r| r.arn().to_string())),
            Err(e) if no_such_entity(&e) => Ok(None),
            Err(e) => Err(e),
        }
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
            boundary: role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()).map(str::to_owned),
        }))
    }

    /// Create a role carrying `boundary` as its permissions boundary.
    pub async fn create_role(
        &self,
        name: &str,
        description: &str,
        trust: &serde_json::Value,
        boundary: &str,
        tags: &Tags,
    ) -> Result<String, AwsError> {
        let req = self
            .client
            .create_role()
            .role_name(name)
            .description(description)
            .assume_role_policy_document(trust.to_string())
            .permissions_boundary(boundary)
            .set_tags(Some(iam_tags(tags)))
            .send();
        match self.session.call(ops::CREATE_ROLE, Some(name), req).await {
            Ok(out) => Ok(out.role.map(|r| r.arn).unwrap_or_default()),
            // A retried request whose first attempt landed (its response
            // was lost). The plan saw no role moments ago; whatever the
            // role now holds, the next `init` compares and repairs.
            Err(e) if already_exists(&e) => Ok(String::new()),
            Err(e) => Err(e),
        }
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

    pub async fn observe_profile(&self, name: &str) -> Result<Option<ProfileState>, AwsError> {
        let req = self.client.get_instance_profile().instance_profile_name(name).send();
        match self.session.call(ops::GET_INSTANCE_PROFILE, Some(name), req).await {
            Ok(out) => {
                let p = out.instance_profile.expect("GetInstanceProfile returns a profile");
                Ok(Some(ProfileState {
                    arn: p.arn().to_string(),
                    roles: p.roles().iter().map(|r| r.role_name().to_string()).collect(),
                    role_trusts: p.roles().iter().map(|r| decode_policy(r.assume_role_policy_document().unwrap_or("{}"))).collect(),
                    tags: p.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
                }))
            }
            Err(e) if no_such_entity(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn create_profile(&self, name: &str, tags: &Tags) -> Result<(), AwsError> {
        let req = self.client.create_instance_profile().instance_profile_name(name).set_tags(Some(iam_tags(tags))).send();
        match self.session.call(ops::CREATE_INSTANCE_PROFILE, Some(name), req).await {
            // As for create_role: a retry of a request that landed.
            Err(e) if already_exists(&e) => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn tag_profile(&self, name: &str, tags: &Tags) -> Result<(), AwsError> {
        let req = self.client.tag_instance_profile().instance_profile_name(name).set_tags(Some(iam_tags(tags))).send();
        self.session.call(ops::TAG_INSTANCE_PROFILE, Some(name), req).await.map(drop)
    }

    /// Put `role` in the profile, retrying while either propagates.
    pub async fn add_role_to_profile(&self, profile: &str, role: &str) -> Result<(), AwsError> {
        let added = crate::retry::on_codes(&["NoSuchEntity"], PROPAGATION_BUDGET, || {
            let req = self.client.add_role_to_instance_profile().instance_profile_name(profile).role_name(role).send();
            self.session.call(ops::ADD_ROLE_TO_INSTANCE_PROFILE, Some(profile), req)
        })
        .await;
        match added {
            // A profile holds one role: LimitExceeded after a retry whose
            // first attempt landed means it holds this one already.
            Err(e) if e.code() == Some("LimitExceeded") => match self.observe_profile(profile).await? {
                Some(p) if p.roles.iter().any(|r| r == role) => Ok(()),
                _ => Err(e),
            },
            other => other.map(drop),
        }
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

    /// The boundary policy's default version and tags, or `None`.
    pub async fn observe_policy(&self, arn: &str) -> Result<Option<PolicyState>, AwsError> {
        let req = self.client.get_policy().policy_arn(arn).send();
        let policy = match self.session.call(bops::GET_POLICY, Some(arn), req).await {
            Ok(out) => out.policy.expect("GetPolicy returns a policy"),
            Err(e) if no_such_entity(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let version = policy.default_version_id().unwrap_or("v1").to_string();
        let req = self.client.get_policy_version().policy_arn(arn).version_id(&version).send();
        let out = self.session.call(bops::GET_POLICY_VERSION, Some(arn), req).await?;
        let document = out.policy_version.and_then(|v| v.document).map(|d| decode_policy(&d)).unwrap_or_default();
        Ok(Some(PolicyState {
            arn: arn.to_string(),
            document,
            tags: policy.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
        }))
    }

    pub async fn create_policy(&self, name: &str, description: &str, doc: &serde_json::Value, tags: &Tags) -> Result<(), AwsError> {
        let req = self
            .client
            .create_policy()
            .policy_name(name)
            .description(description)
            .policy_document(doc.to_string())
            .set_tags(Some(iam_tags(tags)))
            .send();
        match self.session.call(bops::CREATE_POLICY, Some(name), req).await {
            // A concurrent init made it: the plan's next run compares it.
            Err(e) if e.code() == Some("EntityAlreadyExists") => Ok(()),
            other => other.map(drop),
        }
    }

    /// Make `doc` the policy's default version. IAM keeps at most five
    /// versions: the oldest non-default one goes first when all are used.
    pub async fn set_policy_document(&self, arn: &str, doc: &serde_json::Value) -> Result<(), AwsError> {
        let versions = self.policy_versions(arn).await?;
        if versions.len() >= 5
            && let Some(oldest) = versions.iter().filter(|(_, default)| !default).map(|(id, _)| id).next_back()
        {
            self.delete_policy_version(arn, oldest).await?;
        }
        let req = self.client.create_policy_version().policy_arn(arn).policy_document(doc.to_string()).set_as_default(true).send();
        self.session.call(bops::CREATE_POLICY_VERSION, Some(arn), req).await.map(drop)
    }

    /// Version ids, newest first, with whether each is the default.
    async fn policy_versions(&self, arn: &str) -> Result<Vec<(String, bool)>, AwsError> {
        let req = self.client.list_policy_versions().policy_arn(arn).send();
        let out = self.session.call(bops::LIST_POLICY_VERSIONS, Some(arn), req).await?;
        let mut v: Vec<_> = out
            .versions()
            .iter()
            .map(|v| (v.create_date().map(|d| d.secs()).unwrap_or_default(), v.version_id().unwrap_or_default().to_string(), v.is_default_version()))
            .collect();
        v.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(v.into_iter().map(|(_, id, d)| (id, d)).collect())
    }

    async fn delete_policy_version(&self, arn: &str, version: &str) -> Result<(), AwsError> {
        let req = self.client.delete_policy_version().policy_arn(arn).version_id(version).send();
        match self.session.call(bops::DELETE_POLICY_VERSION, Some(arn), req).await {
            Err(e) if no_such_entity(&e) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Delete a managed policy and its old versions (IAM refuses to delete
    /// a policy that has any).
    pub async fn delete_policy(&self, arn: &str) -> Result<(), AwsError> {
        let versions = match self.policy_versions(arn).await {
            Err(e) if no_such_entity(&e) => return Ok(()),
            other => other?,
        };
        for (id, _) in versions.iter().filter(|(_, default)| !default) {
            self.delete_policy_version(arn, id).await?;
        }
        let req = self.client.delete_policy().policy_arn(arn).send();
        match self.session.call(bops::DELETE_POLICY, Some(arn), req).await {
            Err(e) if no_such_entity(&e) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Put the permissions boundary on an existing role.
    pub async fn put_role_boundary(&self, role: &str, boundary_arn: &str) -> Result<(), AwsError> {
        let req = self.client.put_role_permissions_boundary().role_name(role).permissions_boundary(boundary_arn).send();
        self.session.call(ops::PUT_ROLE_PERMISSIONS_BOUNDARY, Some(role), req).await.map(drop)
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
