//! The REST API itself, found by name and owned by its tags.

use std::collections::BTreeMap;

use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, RestApi};

use super::{RestApis, retag};
use crate::error::{ProviderError, deleted};
use crate::live::creation_tags;
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::provider::ownership::{Candidate, candidates, owned_id};
use crate::resource::tags::TagChanges;
use crate::spec;

spec! {
    /// The REST API.
    pub(in crate::provider) struct RestApiSpec for RestApi {
        /// `REGIONAL`.
        endpoint_type: String => ForcesReplacement,
        /// The stack file's tags.
        tags: BTreeMap<String, String>,
    }
}

impl RestApis {
    /// The APIs named after the stack: id, tags and description of each.
    pub(super) async fn candidates(&self) -> Result<Vec<Candidate<RestApi>>, ProviderError> {
        let listed = self
            .calls
            .all_pages(
                "GetRestApis",
                |position| self.client.get_rest_apis().limit(500).set_position(position).send(),
                |out| (out.items.unwrap_or_default(), out.position),
            )
            .await?;
        candidates(listed, &self.stack, RestApi::name, |api| async move {
            Ok(api.id.clone().map(|id| (id, api.tags.clone().unwrap_or_default(), api)))
        })
        .await
    }
}

impl Kind for RestApiSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetRestApis", "apigateway:GET", On::Apis, Sent::Reading),
        needs("CreateRestApi", "apigateway:POST", On::NewApis, Sent::Changing),
        needs("TagResource", "apigateway:PUT", On::Apis, Sent::Changing),
        needs("UntagResource", "apigateway:DELETE", On::Apis, Sent::Changing),
        needs("DeleteRestApi", "apigateway:DELETE", On::Apis, Sent::Deleting),
    ];
}

impl Handler<RestApiSpec> for RestApis {
    /// Creates the API, tagged in the create call.
    async fn create(&self, cx: &StepContext<'_>, wanted: &RestApiSpec) -> Result<String, ProviderError> {
        let endpoint =
            EndpointConfiguration::builder().types(EndpointType::from(wanted.endpoint_type.as_str())).build();
        let out = self
            .calls
            .call("CreateRestApi", || {
                self.client
                    .create_rest_api()
                    .name(&self.stack)
                    .description(format!("authdemo stack {}", self.stack))
                    .endpoint_configuration(endpoint.clone())
                    .set_tags(Some(creation_tags(&self.stack, cx.address, &wanted.tags)))
                    .send()
            })
            .await?;
        let id = out.id.ok_or_else(|| ProviderError::missing("CreateRestApi", "API id"))?;
        if let Some(root) = &out.root_resource_id {
            self.learn(&id, root, true);
        }
        Ok(id)
    }

    /// Retags the API (its endpoint type cannot change in place).
    async fn update(
        &self,
        _cx: &StepContext<'_>,
        id: &str,
        live: &RestApiSpec,
        wanted: &RestApiSpec,
    ) -> Result<(), ProviderError> {
        let changes = TagChanges::between(&live.tags, &wanted.tags);
        retag(&self.client, &self.calls, &self.target, &format!("/restapis/{id}"), &changes).await
    }

    /// Deletes the API with everything in it.
    async fn delete(&self, _cx: &StepContext<'_>, id: &str, _live: &RestApiSpec) -> Result<(), ProviderError> {
        deleted(self.calls.call("DeleteRestApi", || self.client.delete_rest_api().rest_api_id(id).send()).await)
    }

    async fn find(&self, cx: &StepContext<'_>, _wanted: &RestApiSpec) -> Result<Option<String>, ProviderError> {
        owned_id(self.candidates().await?, &self.stack, cx.address)
    }
}
