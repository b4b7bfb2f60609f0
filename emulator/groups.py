"""User pool groups as Cognito has them, where moto 5.2.5 falls short.

- ID tokens carry, besides moto's `cognito:groups`, `cognito:roles` (the role ARNs of the member's
  groups) and `cognito:preferred_role` (the role of its group with the lowest precedence; a group
  without precedence comes after every other; two groups tied at the lowest with different roles
  give none), as Cognito's ID tokens do;
- UpdateGroup resets what it is not sent (description, role, precedence), as AWS documents it,
  where moto keeps the old values;
- GetCredentialsForIdentity applies the identity pool's role mapping of the login's provider and
  client (`PROVIDER:CLIENT_ID`): `Token` takes the `CustomRoleArn` asked for if the token lists it
  in `cognito:roles`, else `cognito:preferred_role`; `Rules` takes the role of the first rule whose
  claim matches (Equals, Contains, StartsWith, NotEqual); when neither decides, the mapping's
  `AmbiguousRoleResolution` gives the authenticated role or refuses (`Deny`).
"""

import base64
import json

from moto.core.exceptions import JsonRESTError


def refuse(error_type, message):
    error = JsonRESTError(error_type, message)
    error.code = 400
    return error


def role_claims(groups):
    """The `cognito:roles` and `cognito:preferred_role` claims of a member of `groups`."""
    with_roles = [g for g in groups if g.role_arn]
    if not with_roles:
        return {}
    claims = {"cognito:roles": sorted({g.role_arn for g in with_roles})}
    ranked = [g for g in with_roles if g.precedence is not None]
    lowest = min((g.precedence for g in ranked), default=None)
    first = [g for g in ranked if g.precedence == lowest] if ranked else with_roles
    if len({g.role_arn for g in first}) == 1:
        claims["cognito:preferred_role"] = first[0].role_arn
    return claims


def patch():
    from moto.cognitoidp import models

    pool = models.CognitoIdpUserPool
    original_extra = pool.get_user_extra_data_by_client_id

    def get_user_extra_data_by_client_id(self, client_id, username):
        # Only the ID token is made from these: its role claims go with them.
        extra = original_extra(self, client_id, username)
        extra.update(role_claims(self._get_user(username).groups))
        return extra

    def update_group(self, user_pool_id, group_name, description, role_arn, precedence):
        group = self.get_group(user_pool_id, group_name)
        group.description = description or ""
        group.role_arn = role_arn
        group.precedence = precedence
        return group

    pool.get_user_extra_data_by_client_id = get_user_extra_data_by_client_id
    models.CognitoIdpBackend.update_group = update_group


def claims_of(token):
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise refuse("NotAuthorizedException", "Invalid login token.")


def rule_matches(rule, claims):
    value = claims.get(rule.get("Claim"))
    value = " ".join(value) if isinstance(value, list) else str(value) if value is not None else None
    wanted, match = rule.get("Value", ""), rule.get("MatchType")
    if value is None:
        return match == "NotEqual"
    return {"Equals": value == wanted, "Contains": wanted in value, "StartsWith": value.startswith(wanted),
            "NotEqual": value != wanted}.get(match, False)


def mapped_role(pool, logins, authenticated_arn, custom_role_arn):
    """The role a signed-in identity gets: the role mapping of its login's provider and client
    decides, else the authenticated role."""
    mappings = getattr(pool, "role_mappings", {}) or {}
    for provider, token in logins.items():
        claims = claims_of(token)
        mapping = mappings.get(f"{provider}:{claims.get('aud')}")
        if not mapping:
            continue
        if mapping.get("Type") == "Token":
            roles = claims.get("cognito:roles") or []
            if custom_role_arn and custom_role_arn in roles:
                return custom_role_arn
            if claims.get("cognito:preferred_role"):
                return claims["cognito:preferred_role"]
        elif mapping.get("Type") == "Rules":
            rules = (mapping.get("RulesConfiguration") or {}).get("Rules") or []
            for rule in rules:
                if rule_matches(rule, claims):
                    return rule.get("RoleARN")
        if mapping.get("AmbiguousRoleResolution") == "Deny":
            raise refuse("NotAuthorizedException", "No role could be resolved for this identity (role mapping: Deny).")
        return authenticated_arn
    return authenticated_arn
