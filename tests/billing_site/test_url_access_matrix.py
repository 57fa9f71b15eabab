"""Who may call every URL, generated from the URL conf (issue 13, "The access matrix is generated
from the URL conf"): every route of the root resolver, every method, as anonymous, each role, the
wrong CSM and the CS stand-in, held against an answer written here as data (SPEC "Roles",
"Bill lifecycle", "JSON API", "Pages").

The expected answers never come from the code under test: this module imports neither
accounts.roles nor the lifecycle table; the services only set the world up.

A route is named by its full route string ("bills/<int:pk>/send"); the admin's routes are one
group, "admin/", tried on a few representative URLs. A route added to the URL conf without a
row here fails test_every_route_has_a_rule, naming it.

The actors (ACTORS), each with a client of its own:
- anonymous: no login (the test client for pages, no credentials for the API);
- finance, sales: a user of that role;
- csm: the Customer Success user who manages the customer whose bill is acted on;
- other_csm: a Customer Success user who manages another customer (the wrong CSM);
- cs_standin: a Customer Success user acting on a bill of a customer that has no CSM (SPEC
  "Approvals": any Customer Success user may act as its CSM);
- staff: a superuser whose role is Sales, so a rule that let staff past a role check shows.
The API is called with each user's bearer token, the pages and the admin with a session.

A cell is one short word:
- "ok": 2xx, or a 3xx that is not to a login page (for a page's button, one without an error
  message); for a bulk API action, the one bill's outcome was that the action was done;
- "login": a redirect to the login page (/welcome, or the admin's own) or the API's 401;
- "403", "404", "405", "409", "400", "503": that status (a page's button that redirects back
  with an error message answers "409": the page's way of saying the bill's state forbids it;
  a bulk API action that skips the one bill because of who asks answers "403").
Methods a route does not list answer as its "*" entry says (NOT_ALLOWED unless given: the API
and the pages send anonymous to log in before looking at the method).

Each route's requests are the natural ones: the path filled with real objects (a bill of the
CSM's customer in a state where the action is allowed; the CS stand-in's bills are of a
customer with no CSM), a valid body. A request that may have changed something gets a fresh
object for the next one.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db.models import F
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import Role
from billing_site.core import periods
from bills.models import Bill
from bills.services import (
    bill_approve,
    bill_send,
    bill_void,
    generation_start,
    payment_record,
)
from tests.factories import MONTH, PASSWORD, YEAR, CustomerFactory, UserFactory, make_bill
from tests.tasks import tasks_run
from usage.models import Usage

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "finance", "sales", "csm", "other_csm", "cs_standin", "staff")
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
WORDS = {"ok", "login", "400", "403", "404", "405", "409", "503"}


def answers(row: str) -> dict[str, str]:
    """{actor: word} from one line of words in ACTORS order."""
    words = row.split()
    assert len(words) == len(ACTORS) and set(words) <= WORDS, row
    return dict(zip(ACTORS, words, strict=True))


#                      anonymous finance sales csm  other_csm cs_standin staff
PUBLIC = answers("     ok        ok      ok    ok   ok        ok         ok")
READ = answers("       login     ok      ok    ok   ok        ok         ok")
FINANCE = answers("    login     ok      403   403  403       403        403")
DECIDE = answers("     login     403     ok    ok   403       ok         ok")
NOT_ALLOWED = answers("login     405     405   405  405       405        405")
PUBLIC_405 = answers(" 405       405     405   405  405       405        405")
LOGGED_OUT = answers(" login     login   login login login    login      login")
ADMIN = answers("      login     login   login login login    login      ok")

ROUTES: dict[str, dict[str, dict[str, str]]] = {
    # --- the JSON API (SPEC "JSON API") ---
    "api/users": {"POST": PUBLIC, "*": PUBLIC_405},  # sign up: open to anyone
    "api/users/<int:pk>": {"GET": READ, "HEAD": READ},
    "api/session": {"GET": READ, "HEAD": READ, "POST": PUBLIC, "DELETE": READ},
    "api/customers": {"GET": READ, "HEAD": READ},
    "api/customers/<int:pk>": {"GET": READ, "HEAD": READ},
    "api/usage": {"GET": READ, "HEAD": READ, "POST": FINANCE},
    "api/usage.csv": {"GET": READ, "HEAD": READ},
    "api/usage/summary": {"GET": READ, "HEAD": READ},
    "api/usage/<int:pk>/revisions": {"GET": READ, "HEAD": READ},
    "api/bills": {"GET": READ, "HEAD": READ, "POST": FINANCE},
    "api/bills.csv": {"GET": READ, "HEAD": READ},
    "api/bills/generate": {"POST": FINANCE},
    "api/jobs/<str:job_id>": {"GET": FINANCE, "HEAD": FINANCE},
    "api/bills/unbilled": {"GET": READ, "HEAD": READ},
    "api/bills/awaiting": {"GET": READ, "HEAD": READ},
    "api/bills/bulk/approve": {"POST": DECIDE},
    "api/bills/bulk/approve/preview": {"POST": DECIDE},
    "api/bills/bulk/reject": {"POST": DECIDE},
    "api/bills/bulk/reject/preview": {"POST": DECIDE},
    "api/bills/bulk/send": {"POST": FINANCE},
    "api/bills/bulk/send/preview": {"POST": FINANCE},
    "api/bills/<int:pk>": {"GET": READ, "HEAD": READ, "PATCH": FINANCE},
    "api/bills/<int:pk>/approve": {"PATCH": DECIDE},
    "api/bills/<int:pk>/reject": {"PATCH": DECIDE},
    "api/bills/<int:pk>/revert": {"PATCH": DECIDE},
    "api/bills/<int:pk>/send": {"PATCH": FINANCE},
    "api/bills/<int:pk>/void": {"PATCH": FINANCE},
    "api/bills/<int:pk>/resend": {"PATCH": FINANCE},
    "api/bills/<int:pk>/rebill": {"POST": FINANCE},
    "api/bills/<int:pk>/dismiss": {"PATCH": FINANCE},
    "api/bills/<int:pk>/payments": {"POST": FINANCE},
    "api/bills/<int:pk>/payments/<int:payment_id>/undo": {"POST": FINANCE},
    # The OpenAPI document and its docs are public (clients and the fuzzer read them; they
    # describe the API and hold no data).
    "api/schema/": {"GET": PUBLIC, "HEAD": PUBLIC, "*": PUBLIC_405},
    "api/docs/": {"GET": PUBLIC, "HEAD": PUBLIC, "*": PUBLIC_405},
    # --- health, for the proxy and the orchestrator: public ---
    # A plain function view with no method check: any method reads "ok" (it writes nothing).
    "healthz": {"*": PUBLIC},
    "health/live": {"GET": PUBLIC, "HEAD": PUBLIC, "*": PUBLIC_405},
    # No worker has beaten in the test: not ready. A class-based view: Django's own OPTIONS
    # answers 200 with the Allow header.
    "health/ready": {
        "GET": answers("503 503 503 503 503 503 503"),
        "HEAD": answers("503 503 503 503 503 503 503"),
        "OPTIONS": PUBLIC,
        "*": PUBLIC_405,
    },
    # --- pages (SPEC "Pages"): every page but /welcome needs a login ---
    "": {"GET": READ},  # to the dashboard
    "welcome": {"GET": PUBLIC, "POST": PUBLIC, "*": PUBLIC_405},
    "logout": {"POST": LOGGED_OUT},  # logged out, so sent to the login page
    "profile": {"GET": READ, "POST": READ},
    "customers": {"GET": READ},
    "customers/<int:pk>": {"GET": READ},
    "customers/suggest": {"GET": READ},
    "dashboard": {"GET": READ},
    "dashboard/awaiting": {"GET": READ},
    "bills/generate": {"POST": FINANCE},
    "bills/jobs/<str:job_id>": {"GET": FINANCE},
    "bills/unbilled": {"GET": READ},
    "bills/bulk/<str:action>": {"GET": FINANCE, "POST": FINANCE},  # action: send
    "bills/<int:pk>": {"GET": READ},
    "bills/<int:pk>/invoice": {"GET": READ},
    "bills/<int:pk>/invoice.pdf": {"GET": READ},
    "bills/<int:pk>/credit-note.pdf": {"GET": READ},
    "bills/<int:pk>/approve": {"POST": DECIDE},
    "bills/<int:pk>/reject": {"POST": DECIDE},
    "bills/<int:pk>/revert": {"POST": DECIDE},
    "bills/<int:pk>/update": {"POST": FINANCE},
    "bills/<int:pk>/send": {"GET": FINANCE, "POST": FINANCE},
    "bills/<int:pk>/send/preview.pdf": {"GET": FINANCE},
    "bills/<int:pk>/void": {"POST": FINANCE},
    "bills/<int:pk>/rebill": {"POST": FINANCE},
    "bills/<int:pk>/resend": {"POST": FINANCE},
    "bills/<int:pk>/dismiss": {"POST": FINANCE},
    "bills/<int:pk>/payments": {"POST": FINANCE},
    "bills/<int:pk>/payments/<int:payment_id>/undo": {"POST": FINANCE},
    "usage": {"GET": READ},
    "usage/record": {"GET": FINANCE, "POST": FINANCE},
    "usage/record/template.csv": {"GET": READ},
    # --- the admin: staff only, whatever the role ---
    "admin/": {"GET": ADMIN, "POST": ADMIN, "*": ADMIN},
}

# The admin's routes are one group, tried on these URLs ({customer}: the customer's id).
ADMIN_URLS = (
    "/admin/",
    "/admin/accounts/user/",
    "/admin/bills/bill/",
    "/admin/customers/customer/{customer}/change/",
)


# --- the URL conf ------------------------------------------------------------------------------


def url_conf_routes() -> set[str]:
    """Every route of the root resolver as its full route string, includes followed; the
    admin's as the one group "admin/"."""

    def walk(patterns, prefix: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                assert isinstance(pattern, URLPattern)
                yield prefix + str(pattern.pattern)

    return {
        "admin/" if route.startswith("admin/") else route
        for route in walk(get_resolver().url_patterns, "")
    }


def test_every_route_has_a_rule():
    routes = url_conf_routes()
    without_rule, without_route = sorted(routes - set(ROUTES)), sorted(set(ROUTES) - routes)
    assert not without_rule, f"routes without a rule in ROUTES: {without_rule}"
    assert not without_route, f"rules in ROUTES for no route: {without_route}"


def test_every_rule_is_well_formed():
    for route, rule in ROUTES.items():
        assert set(rule) <= {*METHODS, "*"}, route
        for method, cells in rule.items():
            assert set(cells) == set(ACTORS) and set(cells.values()) <= WORDS, (route, method)


# --- the world ---------------------------------------------------------------------------------

# What a bill must be for each action on it: the route's last part, by the API or the pages.
STATE_FOR = {
    "approve": "draft",
    "reject": "draft",
    "revert": "approved",
    "update": "draft",
    "send": "approved",
    "preview.pdf": "approved",
    "void": "sent",
    "rebill": "void",
    "resend": "delivered",
    "dismiss": "flagged",
    "payments": "sent",
    "undo": "part_paid",
    "credit-note.pdf": "void",
}
COMMENT = "Checked with the customer."


class World:
    """The people, the customers, and the objects a route's path names, made on demand.

    Bills are of a new customer each: managed by `csm` for every actor but the CS stand-in,
    whose bills are of customers with no CSM. `fresh(kind)` drops a cached object after a
    request that may have changed it."""

    def __init__(self):
        self.users = {
            "finance": UserFactory(name="fiona", role=Role.FINANCE),
            "sales": UserFactory(name="sam", role=Role.SALES),
            "csm": UserFactory(name="casey", role=Role.CUSTOMER_SUCCESS),
            "other_csm": UserFactory(name="cora", role=Role.CUSTOMER_SUCCESS),
            "cs_standin": UserFactory(name="cody", role=Role.CUSTOMER_SUCCESS),
            "staff": UserFactory(name="root", role=Role.SALES, is_staff=True, is_superuser=True),
        }
        # Setting bills up: approvals by someone who never acts in the matrix.
        self.approver = UserFactory(name="sid", role=Role.SALES)
        self.acme = CustomerFactory(name="Acme Corp", csm=self.users["csm"])
        self.orphan = CustomerFactory(name="Orphan Ltd", csm=None)
        CustomerFactory(name="Cora's Co", csm=self.users["other_csm"])
        self.cache: dict[tuple, object] = {}

    @property
    def finance(self):
        return self.users["finance"]

    def side(self, actor: str) -> str:
        return "orphan" if actor == "cs_standin" else "acme"

    def customer(self, actor: str):
        return self.orphan if actor == "cs_standin" else self.acme

    def get(self, kind: str, actor: str):
        """The cached object of `kind` for the actor's side, made when missing."""
        key = (kind, self.side(actor))
        if key not in self.cache:
            self.cache[key] = self.make(kind, actor)
        return self.cache[key]

    def fresh(self, kind: str, actor: str) -> None:
        self.cache.pop((kind, self.side(actor)), None)

    def make(self, kind: str, actor: str):
        if kind == "usage":
            usage, _ = Usage.objects.get_or_create(
                customer=self.customer(actor), year=YEAR, month=MONTH, api_usage=1_500_000
            )
            return usage
        if kind == "job":
            return generation_start(year=YEAR, month=MONTH, user=self.finance)
        if kind == "payment":
            return self.get("part_paid", actor).payments.get()
        return self.bill(kind, actor)

    def bill(self, state: str, actor: str) -> Bill:
        """A bill of a new customer of the actor's side (one approval needed), taken to `state`
        by the services: draft, approved, sent, delivered (sent, its email delivered), flagged
        (sent, then its month's usage changed), part_paid (sent, USD 10.00 paid), void."""
        csm = None if self.side(actor) == "orphan" else self.users["csm"]
        bill = make_bill(
            customer=CustomerFactory(csm=csm), finance=self.finance, year=YEAR, month=MONTH
        )
        if state == "draft":
            return bill
        bill = bill_approve(bill=bill, user=self.approver)
        if state == "approved":
            return bill
        bill = bill_send(bill=bill, user=self.finance)
        if state == "delivered":
            tasks_run()
        elif state == "flagged":
            month = Usage.objects.filter(customer=bill.customer, year=YEAR, month=MONTH)
            month.update(api_usage=F("api_usage") + 1)
        elif state == "part_paid":
            payment_record(
                bill=bill, user=self.finance, date=periods.today(), amount="10.00", reference="TR-1"
            )
        elif state == "void":
            bill = bill_void(bill=bill, user=self.finance, comment="Sent to the wrong address.")
        return bill


def needs(route: str) -> str | None:
    """The kind of object the route's <int:pk> names, or None."""
    if "<int:pk>" not in route:
        return None
    if route.startswith(("customers/", "api/customers/")):
        return "customer"
    if route.startswith("api/users/"):
        return "user"
    if route.startswith("api/usage/"):
        return "usage"
    last = route.rsplit("/", 1)[-1]
    return STATE_FOR.get(last, "draft")


def request_for(world: World, route: str, method: str, actor: str) -> tuple[str, dict, set]:
    """(url, body, kinds of object used) for one request: the natural request of the route."""
    used, path = set(), route
    kind = needs(route)
    if kind == "customer":
        path = path.replace("<int:pk>", str(world.customer(actor).pk))
    elif kind == "user":
        path = path.replace("<int:pk>", str(world.finance.pk))
    elif kind is not None:
        used.add(kind)
        path = path.replace("<int:pk>", str(world.get(kind, actor).pk))
    if "<int:payment_id>" in path:
        used.add("payment")
        path = path.replace("<int:payment_id>", str(world.get("payment", actor).pk))
    if "<str:job_id>" in path:
        path = path.replace("<str:job_id>", str(world.get("job", actor).pk))
    path = path.replace("<str:action>", "send")
    url = "/" + path
    bill = world.cache.get((kind, world.side(actor))) if kind in STATE_FOR.values() else None
    return url, body_for(world, route, method, actor, bill, used), used


def body_for(world, route, method, actor, bill, used) -> dict:
    """The body (or query, for GET) a person or a client would send."""
    if method in ("GET", "HEAD"):
        if route == "api/usage/summary":
            return {"year": YEAR, "month": MONTH}
        if route == "bills/bulk/<str:action>":
            return {"ids": [world.get("approved", actor).pk]}
        return {}
    if method != "POST" and method != "PATCH":
        return {}
    customer = world.customer(actor)
    if route == "api/users":
        return {
            "name": f"new-{actor}",
            "email": f"new-{actor}@example.com",
            "role": "Sales",
            "password": PASSWORD,
        }
    if route == "api/session":
        user = world.users.get(actor, world.finance)
        return {"name": user.name, "password": PASSWORD}
    if route == "api/usage":
        return {"customer_id": customer.pk, "year": YEAR, "month": MONTH, "api_usage": 5}
    if route == "api/bills":
        fresh = CustomerFactory(csm=customer.csm)
        Usage.objects.create(customer=fresh, year=YEAR, month=MONTH, api_usage=2_000_000)
        return {"customer_id": fresh.pk, "year": YEAR, "month": MONTH}
    if route in ("api/bills/generate", "bills/generate"):
        return {"year": YEAR, "month": MONTH}
    if route.startswith("api/bills/bulk/"):
        action = route.split("/")[3]
        used.add("approved" if action == "send" else "draft")
        ids = [world.get("approved" if action == "send" else "draft", actor).pk]
        return {"ids": ids, "comment": COMMENT} if action == "reject" else {"ids": ids}
    if route == "bills/bulk/<str:action>":
        used.add("approved")
        return {"ids": [world.get("approved", actor).pk]}
    if route.endswith("/payments"):
        return {"date": periods.today().isoformat(), "amount": "10.00", "reference": "TR-2"}
    if route.endswith(("/send", "/resend", "/rebill")):
        return {}
    if route.endswith("/update"):
        return {"comment": COMMENT, "intent": "reprice", "overage_unit_cost": "0.002"}
    if route == "usage/record":
        return {
            "form": "entry",
            "customer": customer.pk,
            "year": str(YEAR),
            "month": str(MONTH),
            "api_usage": "5",
        }
    if bill is not None or route.startswith("api/bills/<int:pk>"):
        return {"comment": COMMENT}
    return {}


# --- asking, and reading the answer ----------------------------------------------------------

LOGIN_PAGES = ("/welcome", "/admin/login/")
REFUSALS = {"login", "400", "403", "404", "405", "409"}
# Routes whose answer ends the actor's sessions and tokens: a new client after each request.
LOGS_OUT = {"logout", "api/session"}


class Clients:
    """One client per actor: the API's with the user's bearer token, the pages' logged in."""

    def __init__(self, world: World):
        self.world, self.made = world, {}

    def get(self, actor: str, api: bool, *, new: bool = False):
        key = (actor, api)
        if new or key not in self.made:
            # A server error is an answer like any other here: "500" in the list.
            client = (APIClient if api else Client)(raise_request_exception=False)
            user = self.world.users.get(actor)
            if user is not None:
                user.refresh_from_db()
                if api:
                    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user.session_token}")
                else:
                    client.force_login(user)
            self.made[key] = client
        return self.made[key]


def word(response, *, api: bool, route: str) -> str:
    """The cell this response fills in (see the module's docstring)."""
    code = response.status_code
    if code == 401 and api:
        return "login"
    if 300 <= code < 400:
        if response["Location"].startswith(LOGIN_PAGES):
            return "login"
        levels = {m.level_tag for m in get_messages(response.wsgi_request)}
        return "409" if "error" in levels else "ok"
    if 200 <= code < 300:
        if api and route.startswith("api/bills/bulk/") and code == 200:
            return bulk_word(response.json())
        return "ok"
    return str(code)


def bulk_word(body: dict) -> str:
    """A bulk answer's one bill: the action done, or ready to be (a preview) -> "ok"; skipped
    because the bill is not the caller's to decide -> "403"; else what it said."""
    [result] = body["results"]
    if result["outcome"] in ("ready", "approved", "rejected", "sent"):
        return "ok"
    if result["outcome"] == "skipped" and result["detail"] == "not yours":
        return "403"
    return f"{result['outcome']}: {result['detail']}"


def ask(client, method: str, url: str, body: dict, *, api: bool):
    """The response to one request: `body` as the query of a GET or HEAD, else as JSON for the
    API and as a form for the pages (no body at all when it is empty)."""
    call = getattr(client, method.lower())
    if method in ("GET", "HEAD"):
        return call(url, body)
    if api:
        return call(url, body, format="json") if body else call(url)
    return call(url, body) if body else call(url)


def expected(route: str, method: str) -> dict[str, str]:
    """{actor: word} for the route and method: its own entry, else its "*", else NOT_ALLOWED."""
    rule = ROUTES[route]
    return rule.get(method) or rule.get("*", NOT_ALLOWED)


@pytest.fixture
def no_attempt_limits(settings):
    """The matrix asks who, not how often: the login and sign-up limits (which count every
    request to their endpoint, whatever its method) are out of reach here; they have tests of
    their own (tests/accounts/test_login_limits.py, test_throttles.py)."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {scope: "10000/min" for scope in rates},
    }


@pytest.mark.parametrize("route", sorted(ROUTES, key=lambda r: (r.startswith("admin/"), r)))
def test_every_method_and_actor_answers_as_the_table_says(route, no_attempt_limits):
    """Every method as every actor on one route; all differences from ROUTES in one list."""
    world = World()
    clients = Clients(world)
    mismatches = []
    if route == "admin/":
        urls = [u.format(customer=world.acme.pk) for u in ADMIN_URLS]
        for url in urls:
            for method in METHODS:
                for actor in ACTORS:
                    client = clients.get(actor, api=False)
                    got = word(ask(client, method, url, {}, api=False), api=False, route=route)
                    if got != expected(route, method)[actor]:
                        want = expected(route, method)[actor]
                        mismatches.append(f"{method} {url} as {actor}: {got}, expected {want}")
        assert not mismatches, "\n".join(mismatches)
        return
    api = route.startswith("api/")
    for method in METHODS:
        for actor in ACTORS:
            url, body, used = request_for(world, route, method, actor)
            client = clients.get(actor, api, new=route in LOGS_OUT)
            got = word(ask(client, method, url, body, api=api), api=api, route=route)
            want = expected(route, method)[actor]
            if got != want:
                mismatches.append(f"{method} /{route} ({url}) as {actor}: {got}, expected {want}")
            if got not in REFUSALS and method not in ("GET", "HEAD", "OPTIONS"):
                for kind in used:
                    world.fresh(kind, actor)
                if "payment" in used:
                    world.fresh("part_paid", actor)
    assert not mismatches, "\n".join(mismatches)
