//! The caller's own IAM policies, for `hoist check`: read them (inline,
//! attached, via groups, the permissions boundary), or ask IAM to simulate
//! them where it offers that.

use serde::Serialize;

use crate::catalog::iam_read;
use crate::error::AwsError;
use crate::iam::decode_policy;
use crate::session::Session;

/// Who the caller is, as IAM sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Principal {
    User(String),
    /// An assumed-role session: its role's policies decide.
    Role(String),
    /// The account root or a federated user: not evaluated.
    Other(String),
}

/// From an STS caller ARN.
pub fn principal_of(arn: &str) -> Principal {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    if let Some(path) = resource.strip_prefix("user/") {
        Principal::User(path.rsplit('/').next().unwrap_or(path).to_string())
    } else if let Some(rest) = resource.strip_prefix("assumed-role/") {
        Principal::Role(rest.split('/').next().unwrap_or(rest).to_string())
    } else if let Some(path) = resource.strip_prefix("role/") {
        Principal::Role(path.rsplit('/').next().unwrap_or(path).to_string())
    } else {
        Principal::Other(arn.to_string())
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Gathered {
    /// (where it came from, the document) for every identity policy.
    pub policies: Vec<(String, serde_json::Value)>,
    pub boundary: Option<(String, serde_json::Value)>,
}

async fn managed(session: &Session, client: &aws_sdk_iam::Client, arn: &str) -> Result<serde_json::Value, AwsError> {
    let p = session.call(iam_read::GET_POLICY, Some(arn), client.get_policy().policy_arn(arn).send()).await?;
    let version = p.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_string();
    let req = client.get_policy_version().policy_arn(arn).version_id(&version).send();
    let v = session.call(iam_read::GET_POLICY_VERSION, Some(arn), req).await?;
    Ok(decode_policy(v.policy_version().and_then(|v| v.document()).unwrap_or("{}")))
}

/// Every policy that applies to the principal.
pub async fn gather(session: &Session, principal: &Principal) -> Result<Gathered, AwsError> {
    let c = session.iam_client();
    let mut out = Gathered::default();
    match principal {
        Principal::User(user) => {
            let u = session.call(iam_read::GET_USER, Some(user), c.get_user().user_name(user).send()).await?;
            if let Some(b) = u.user().and_then(|u| u.permissions_boundary()).and_then(|b| b.permissions_boundary_arn()) {
                out.boundary = Some((format!("boundary {b}"), managed(session, &c, b).await?));
            }
            let names = session.call(iam_read::LIST_USER_POLICIES, Some(user), c.list_user_policies().user_name(user).send()).await?;
            for name in names.policy_names() {
                let req = c.get_user_policy().user_name(user).policy_name(name).send();
                let doc = session.call(iam_read::GET_USER_POLICY, Some(user), req).await?;
                out.policies.push((format!("user inline policy {name}"), decode_policy(doc.policy_document())));
            }
            let attached = session
                .call(iam_read::LIST_ATTACHED_USER_POLICIES, Some(user), c.list_attached_user_policies().user_name(user).send())
                .await?;
            for p in attached.attached_policies() {
                if let Some(arn) = p.policy_arn() {
                    out.policies.push((format!("attached {arn}"), managed(session, &c, arn).await?));
                }
            }
            let groups = session.call(iam_read::LIST_GROUPS_FOR_USER, Some(user), c.list_groups_for_user().user_name(user).send()).await?;
            for g in groups.groups() {
                let group = g.group_name();
                let names = session.call(iam_read::LIST_GROUP_POLICIES, Some(group), c.list_group_policies().group_name(group).send()).await?;
                for name in names.policy_names() {
                    let req = c.get_group_policy().group_name(group).policy_name(name).send();
                    let doc = session.call(iam_read::GET_GROUP_POLICY, Some(group), req).await?;
                    out.policies.push((format!("group {group} inline policy {name}"), decode_policy(doc.policy_document())));
                }
                let attached = session
                    .call(iam_read::LIST_ATTACHED_GROUP_POLICIES, Some(group), c.list_attached_group_policies().group_name(group).send())
                    .await?;
                for p in attached.attached_policies() {
                    if let Some(arn) = p.policy_arn() {
                        out.policies.push((format!("group {group} attached {arn}"), managed(session, &c, arn).await?));
                    }
                }
            }
        }
        Principal::Role(role) => {
            let r = session.call(iam_read::GET_OWN_ROLE, Some(role), c.get_role().role_name(role).send()).await?;
            if let Some(b) = r.role().and_then(|r| r.permissions_boundary()).and_then(|b| b.permissions_boundary_arn()) {
                out.boundary = Some((format!("boundary {b}"), managed(session, &c, b).await?));
            }
            let names = session.call(iam_read::LIST_OWN_ROLE_POLICIES, Some(role), c.list_role_policies().role_name(role).send()).await?;
            for name in names.policy_names() {
                let req = c.get_role_policy().role_name(role).policy_name(name).send();
                let doc = session.call(iam_read::GET_OWN_ROLE_POLICY, Some(role), req).await?;
                out.policies.push((format!("role inline policy {name}"), decode_policy(doc.policy_document())));
            }
            let attached = session
                .call(iam_read::LIST_OWN_ATTACHED_ROLE_POLICIES, Some(role), c.list_attached_role_policies().role_name(role).send())
                .await?;
            for p in attached.attached_policies() {
                if let Some(arn) = p.policy_arn() {
                    out.policies.push((format!("attached {arn}"), managed(session, &c, arn).await?));
                }
            }
        }
        Principal::Other(_) => {}
    }
    Ok(out)
}

/// IAM's own verdict on each action for one resource: ("allowed" |
/// "explicitDeny" | "implicitDeny") per action.
/// The caller's own role's ARN, path included (an assumed-role ARN names
/// the role without its path, which the simulator needs).
pub async fn own_role_arn(session: &Session, role: &str) -> Result<String, AwsError> {
    let c = session.iam_client();
    let r = session.call(iam_read::GET_OWN_ROLE, Some(role), c.get_role().role_name(role).send()).await?;
    Ok(r.role().map(|r| r.arn().to_string()).unwrap_or_default())
}

/// Ask IAM's simulator about `actions` on `resource`, with the request
/// context hoist's requests carry (`context`: the keys a condition names,
/// such as the resource's workspace tag), so conditioned grants are judged
/// as they apply.
pub async fn simulate(
    session: &Session,
    source_arn: &str,
    actions: &[String],
    resource: &str,
    context: &[(String, String)],
) -> Result<Vec<(String, String)>, AwsError> {
    let c = session.iam_client();
    let entries: Vec<aws_sdk_iam::types::ContextEntry> = context
        .iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::ContextEntry::builder()
                .context_key_name(k)
                .context_key_values(v)
                .context_key_type(aws_sdk_iam::types::ContextKeyTypeEnum::String)
                .build()
        })
        .collect();
    let op = if source_arn.contains(":role/") { iam_read::SIMULATE_OWN_ROLE } else { iam_read::SIMULATE_PRINCIPAL_POLICY };
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        // One attempt: where the simulator is unavailable (a 500 from a
        // server that lacks it), retrying only delays the fallback.
        let req = c
            .simulate_principal_policy()
            .policy_source_arn(source_arn)
            .set_action_names(Some(actions.to_vec()))
            .resource_arns(resource)
            .set_context_entries((!entries.is_empty()).then(|| entries.clone()))
            .set_marker(marker.take())
            .customize()
            .config_override(aws_sdk_iam::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled()))
            .send();
        let res = session.call(op, Some(source_arn), req).await?;
        for r in res.evaluation_results() {
            out.push((r.eval_action_name().to_string(), r.eval_decision().as_str().to_string()));
        }
        match res.marker() {
            Some(m) if res.is_truncated() => marker = Some(m.to_string()),
            _ => return Ok(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_read_from_caller_arns() {
        assert_eq!(principal_of("arn:aws:iam::1:user/alice"), Principal::User("alice".into()));
        assert_eq!(principal_of("arn:aws:iam::1:user/team/alice"), Principal::User("alice".into()));
        assert_eq!(principal_of("arn:aws:sts::1:assumed-role/Admin/alice@x"), Principal::Role("Admin".into()));
        assert_eq!(principal_of("arn:aws:iam::1:root"), Principal::Other("arn:aws:iam::1:root".into()));
    }
}
