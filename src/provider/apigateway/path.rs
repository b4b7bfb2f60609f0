//! The API's paths: one resource per path segment, under its parent.

use super::RestApis;
use crate::error::{ProviderError, deleted};
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::{Address, DesiredResource, DesiredState, ResourceKind, rest_api_address};
use crate::spec;
use crate::stack::{Api, Route};

spec! {
    /// A path of the REST API.
    pub(in crate::provider) struct ApiResourceSpec for ApiResource {
        /// The last segment of the path.
        path_part: String => ForcesReplacement,
    }
}

/// Adds every path of the API's routes as a resource under its parent.
pub(super) fn desired_paths(state: &mut DesiredState, api: &Api) {
    for path in api_paths(&api.routes) {
        let (parent, part) = path.rsplit_once('/').unwrap_or_default();
        let mut depends_on = vec![rest_api_address()];
        if !parent.is_empty() {
            depends_on.push(Address::new(ResourceKind::ApiResource, parent));
        }
        let spec = ApiResourceSpec { path_part: part.to_string() };
        state.resources.push(DesiredResource::of(Address::new(ResourceKind::ApiResource, &path), &spec, depends_on));
    }
}

/// Every path of the routes and all their parents, sorted (parents first).
fn api_paths(routes: &[Route]) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for route in routes {
        let segments: Vec<&str> = route.path.split('/').filter(|s| !s.is_empty()).collect();
        for depth in 1..=segments.len() {
            let path = format!("/{}", segments[..depth].join("/"));
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    paths.sort_unstable();
    paths
}

impl RestApis {
    /// The id of the resource at `path` ("/" is the API's root).
    pub(super) async fn resource_id(
        &self,
        cx: &StepContext<'_>,
        api_id: &str,
        path: &str,
    ) -> Result<String, ProviderError> {
        if path != "/" {
            return cx.id_of(&Address::new(ResourceKind::ApiResource, path)).map(str::to_string);
        }
        if let (Some(root), _) = self.known(api_id) {
            return Ok(root);
        }
        let resources = self
            .calls
            .call("GetResources", || self.client.get_resources().rest_api_id(api_id).limit(500).send())
            .await?;
        resources
            .items()
            .iter()
            .find(|r| r.path() == Some("/"))
            .and_then(|r| r.id())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::other("GetResources", format!("API {api_id} has no root resource")))
    }
}

impl Kind for ApiResourceSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetResources", "apigateway:GET", On::Apis, Sent::Reading),
        needs("CreateResource", "apigateway:POST", On::Apis, Sent::Changing),
        needs("DeleteResource", "apigateway:DELETE", On::Apis, Sent::Deleting),
    ];
}

impl Handler<ApiResourceSpec> for RestApis {
    /// Creates a path under its parent.
    async fn create(&self, cx: &StepContext<'_>, wanted: &ApiResourceSpec) -> Result<String, ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let parent = cx.address.name.rsplit_once('/').map_or("/", |(p, _)| if p.is_empty() { "/" } else { p });
        let parent_id = self.resource_id(cx, api_id, parent).await?;
        let out = self
            .calls
            .call("CreateResource", || {
                self.client
                    .create_resource()
                    .rest_api_id(api_id)
                    .parent_id(&parent_id)
                    .path_part(&wanted.path_part)
                    .send()
            })
            .await?;
        out.id.ok_or_else(|| ProviderError::missing("CreateResource", "resource id"))
    }

    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &ApiResourceSpec) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        deleted(
            self.calls
                .call("DeleteResource", || self.client.delete_resource().rest_api_id(api_id).resource_id(id).send())
                .await,
        )
    }
}
