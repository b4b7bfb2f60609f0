//! The gateway responses `DEFAULT_4XX` and `DEFAULT_5XX` with the CORS headers, so that the
//! errors API Gateway answers itself (a missing API key, a throttled call) can be read by the page.

use std::collections::HashMap;

use super::RestApis;
use super::cors::{header_key, quoted, unquoted};
use crate::error::{ProviderError, deleted, found};
use crate::live::{LiveResource, LiveState};
use crate::provider::handler::{Handler, StepContext};
use crate::provider::iam_actions::{On, Permission, Sent, needs};
use crate::provider::kind::Kind;
use crate::resource::{Address, ResourceKind, rest_api_address};
use crate::spec;

/// The gateway responses that carry the CORS headers: every error API Gateway answers itself.
pub(super) const GATEWAY_RESPONSES: &[&str] = &["DEFAULT_4XX", "DEFAULT_5XX"];

spec! {
    /// A gateway response carrying the CORS headers.
    pub(in crate::provider) struct GatewayResponseSpec for ApiGatewayResponse {
        /// `Access-Control-Allow-Origin` (`*` when several origins are allowed).
        allow_origin: String,
        /// `Access-Control-Allow-Headers`.
        allow_headers: String,
    }
}

impl RestApis {
    /// Records the API's customized `DEFAULT_4XX` and `DEFAULT_5XX` in `live`. GetGatewayResponses
    /// answers the whole collection at once (it has no pages) and lists the types left at their
    /// defaults too: those are not the stack's.
    pub(super) async fn discover_gateway_responses(
        &self,
        api_id: &str,
        live: &mut LiveState,
    ) -> Result<(), ProviderError> {
        let listed = self
            .calls
            .call("GetGatewayResponses", || self.client.get_gateway_responses().rest_api_id(api_id).limit(500).send())
            .await?;
        for response in listed.items() {
            let Some(response_type) = response.response_type().map(|t| t.as_str().to_string()) else { continue };
            if response.default_response() || !GATEWAY_RESPONSES.contains(&response_type.as_str()) {
                continue;
            }
            let parameters = response.response_parameters().cloned().unwrap_or_default();
            let mapped = |name| {
                parameters
                    .get(&header_key("gatewayresponse", name))
                    .map(|v| unquoted(v).to_string())
                    .unwrap_or_default()
            };
            let spec = GatewayResponseSpec {
                allow_origin: mapped("Access-Control-Allow-Origin"),
                allow_headers: mapped("Access-Control-Allow-Headers"),
            };
            let address = Address::new(ResourceKind::ApiGatewayResponse, &response_type);
            live.insert(LiveResource::of(address, response_type, &spec));
        }
        Ok(())
    }

    async fn put_gateway_response(
        &self,
        api_id: &str,
        response_type: &str,
        wanted: &GatewayResponseSpec,
    ) -> Result<(), ProviderError> {
        let parameters = HashMap::from([
            (header_key("gatewayresponse", "Access-Control-Allow-Origin"), quoted(&wanted.allow_origin)),
            (header_key("gatewayresponse", "Access-Control-Allow-Headers"), quoted(&wanted.allow_headers)),
        ]);
        self.calls
            .call("PutGatewayResponse", || {
                self.client
                    .put_gateway_response()
                    .rest_api_id(api_id)
                    .response_type(response_type.into())
                    .set_response_parameters(Some(parameters.clone()))
                    .send()
            })
            .await?;
        Ok(())
    }
}

impl Kind for GatewayResponseSpec {
    const PERMISSIONS: &'static [Permission] = &[
        needs("GetGatewayResponses", "apigateway:GET", On::Apis, Sent::Reading),
        needs("GetGatewayResponse", "apigateway:GET", On::Apis, Sent::Reading),
        needs("PutGatewayResponse", "apigateway:PUT", On::Apis, Sent::Changing),
        needs("DeleteGatewayResponse", "apigateway:DELETE", On::Apis, Sent::Deleting),
    ];
}

impl Handler<GatewayResponseSpec> for RestApis {
    /// Puts the response type with the CORS headers; the id is the type.
    async fn create(&self, cx: &StepContext<'_>, wanted: &GatewayResponseSpec) -> Result<String, ProviderError> {
        self.put_gateway_response(cx.id_of(&rest_api_address())?, &cx.address.name, wanted).await?;
        Ok(cx.address.name.clone())
    }

    /// Puts it again (PutGatewayResponse replaces the whole response).
    async fn update(
        &self,
        cx: &StepContext<'_>,
        id: &str,
        _live: &GatewayResponseSpec,
        wanted: &GatewayResponseSpec,
    ) -> Result<(), ProviderError> {
        self.put_gateway_response(cx.id_of(&rest_api_address())?, id, wanted).await
    }

    /// A put whose answer was lost finds the type customized.
    async fn find(&self, cx: &StepContext<'_>, _wanted: &GatewayResponseSpec) -> Result<Option<String>, ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let response_type = cx.address.name.as_str();
        let live = self
            .calls
            .call("GetGatewayResponse", || {
                self.client.get_gateway_response().rest_api_id(api_id).response_type(response_type.into()).send()
            })
            .await;
        Ok(found(live)?.filter(|r| !r.default_response()).map(|_| response_type.to_string()))
    }

    /// Deletes the customization: the type goes back to API Gateway's default.
    async fn delete(&self, cx: &StepContext<'_>, id: &str, _live: &GatewayResponseSpec) -> Result<(), ProviderError> {
        let api_id = cx.id_of(&rest_api_address())?;
        let result = self
            .calls
            .call("DeleteGatewayResponse", || {
                self.client.delete_gateway_response().rest_api_id(api_id).response_type(id.into()).send()
            })
            .await;
        deleted(result)
    }
}
