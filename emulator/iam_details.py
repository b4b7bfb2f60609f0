"""GetAccountAuthorizationDetails as AWS pages it.

moto answers every entity of the account in one page; AWS answers at most MaxItems (default 100,
at most 1000) entities per page, with IsTruncated and a Marker for the next. A tool that reads one
page only would miss roles in a larger account, so the emulator pages (in role id order). With the
listing lag (`sN`, see lag.py) a role created less than N ms ago is left out, as from ListRoles.

`patch(lag_ms)` installs it; `lag_ms()` answers the current request's N.
"""

import lag

KINDS = (("UserDetailList", "users"), ("GroupDetailList", "groups"), ("RoleDetailList", "roles"),
         ("Policies", "managed_policies"))


def patch(lag_ms):
    from moto.iam import responses

    def get_account_authorization_details(self):
        details = self.backend.get_account_authorization_details(self._get_param("Filter", []))
        max_items = min(int(self._get_param("MaxItems", 100)), 1000)
        start = int(self._get_param("Marker") or 0)
        lag_s = lag_ms() / 1000
        entities = []
        for key, kind in KINDS:
            items = sorted(details[kind], key=lambda item: str(getattr(item, "id", getattr(item, "arn", ""))))
            entities += [(key, item) for item in items if not (lag_s and lag.young(item, lag_s))]
        page = entities[start:start + max_items]
        result = {key: [item for k, item in page if k == key] for key, _ in KINDS}
        more = start + max_items < len(entities)
        result["IsTruncated"] = more
        if more:
            result["Marker"] = str(start + max_items)
        return responses.ActionResult(result)

    responses.IamResponse.get_account_authorization_details = get_account_authorization_details
