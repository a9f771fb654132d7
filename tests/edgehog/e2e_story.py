"""The story tests/edgehog/e2e.py drives through Edgehog's UI, one Step at a time.

Selectors come from Edgehog's frontend sources (pages/*.tsx, forms/*.tsx,
components/**; English texts from src/i18n/langs/en.json): visible labels,
roles, placeholders and button titles, not CSS classes. Fields are found by
their <label> (FormRow gives each its controlId); react-select dropdowns
have no id of their own, so `form_field()` finds the column next to their label.

Steps run in order and hand each other what they created through Story;
a step whose prerequisite failed fails at once ("blocked: ...") instead of
waiting for a page that cannot show it. Every page is reached with a full
page load, so live updates (subscriptions) are never needed to see data:
steps that wait for the device reload the page until it shows the state.

Except in the `live-*` steps, which are about live updates: a second tab
("tab B", the same session) opens a page that subscribes (Applications,
Devices, Deployments, a device's Applications tab), waits until the server
has answered its subscriptions, and must then show what the first tab, the
API or the simulated device changed without being reloaded and without
sending a single query (`Watch`).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from playwright.async_api import Locator, Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.edgehog.e2e import (
    TENANT,
    Blocked,
    Browser,
    Service,
    Step,
    StepFailed,
    error_messages,
    graphql,
    operation,
)

# What the story creates.
CREDS = {"label": "ghcr-e2e", "username": "acme-ci", "password": "ghp_e2e_not_a_real_token"}
CREDS_TO_DELETE = {"label": "e2e-to-delete", "username": "someone", "password": "pw-to-delete"}
CREDS_OPTION = f"{CREDS['label']} ({CREDS['username']})"  # how the container form lists them
VOLUME = {"label": "e2e-data", "driver": "local", "options": '{"type": "tmpfs", "device": "tmpfs"}'}
NETWORK = {
    "label": "e2e-net",
    "driver": "bridge",
    "options": '{"com.docker.network.driver.mtu": "1400"}',
}
WEB = {"name": "e2e-web", "image": "ghcr.io/acme/e2e-web:1.0.0", "target": "/data"}
DEVICE_MAPPING = ("/dev/ttyUSB0", "/dev/ttyUSB0", "rwm")
WORKER = {"name": "e2e-worker", "image": "nginx:1.27"}
APP = {"name": "e2e-gateway", "description": "Edge gateway, created by the e2e story"}
LIVE_APP = {"name": "e2e-live-app", "description": "Created while another tab watches"}
DEVICE = {"deviceId": "f0VMRgIBAQAAAAAAAAAAAA", "name": "e2e-device"}

PAGE_ERROR = "The page couldn't load."  # Page.LoadingError, shown when a query fails
DEVICE_WAIT = 30.0  # seconds the device gets to act on a request


@dataclass
class Story:
    browser: Browser
    service: Service
    ui: str
    device_sim: ModuleType | None
    # What earlier steps made, by name.
    creds_id: str = ""
    volume_id: str = ""
    network_id: str = ""
    container_ids: dict[str, str] = field(default_factory=dict)
    app_id: str = ""
    release_ids: dict[str, str] = field(default_factory=dict)
    device_id: str = ""  # the Relay id
    device_token: str = ""
    deployment_id: str = ""
    sim_task: asyncio.Task[Any] | None = None
    sim_stop: asyncio.Event = field(default_factory=asyncio.Event)
    sims: list[Any] = field(default_factory=list)  # the running simulated device
    sim_failure: str = ""  # where the simulated device was seen stopped
    current_step: str = ""
    live_app_id: str = ""
    devices_watch: Watch | None = None  # tab B on the device list, from step live-devices-open
    # The GraphQL requests each tab sent ("A", "B"): a live update needs none.
    requests: dict[str, list[Request]] = field(default_factory=dict)
    in_flight: dict[str, set[Any]] = field(default_factory=dict)  # their unanswered ones

    @property
    def page(self) -> Page:
        return self.browser.page

    @property
    def timeout(self) -> float:
        return self.browser.timeout_ms / 1000

    @property
    def device_sim_missing(self) -> str:
        if self.device_sim is None:
            return "no tests/edgehog/device_sim.py yet (the device protocol is being written)"
        return ""

    def need(self, value: Any, what: str, step: str) -> Any:
        if not value:
            raise Blocked(f"blocked: needs {what} from step {step}")
        return value

    async def close(self) -> None:
        self.sim_stop.set()
        if self.sim_task is not None:
            try:
                await asyncio.wait_for(self.sim_task, 5)
            except (TimeoutError, asyncio.CancelledError):
                self.sim_task.cancel()
            except Exception as error:
                if not self.sim_failure:  # else a step has reported it already
                    print(f"the simulated device ended with {error!r}")


# --- helpers ---------------------------------------------------------------------------------


async def goto(s: Story, path: str) -> None:
    await s.page.goto(path)


def in_page(s: Story) -> Locator:
    """The routed page, without the sidebar (whose group is also called "Applications")."""
    return s.page.get_by_test_id("page")


async def shown(s: Story, locator: Locator, what: str, page: Page | None = None) -> None:
    """Wait for `locator`; fail at once, with the reason, when the page could not load."""
    page_error = (page or s.page).get_by_text(PAGE_ERROR)
    try:
        await locator.or_(page_error).first.wait_for(state="visible")
    except PlaywrightTimeout:
        raise StepFailed(f"{what}: not shown within {s.timeout:.0f}s") from None
    if await page_error.is_visible():
        raise StepFailed(f"{what}: the page shows {PAGE_ERROR!r} (a query failed, see below)")


async def open_create_page(s: Story, path: str, button: str, form: str = "") -> str:
    """Go to the page with the create button (a list) and click it, as a user would.

    When that page cannot load, go to the form's address (`{path}/new`)
    directly, so the step goes on to report what the form and its mutation
    do; the list has a step of its own. Returns a note for the step's line.
    """
    await goto(s, path)
    create = s.page.get_by_role("button", name=button, exact=True)
    try:
        await shown(s, create, f"the {button!r} button")
    except StepFailed:
        form = form or f"{path}/new"
        await goto(s, form)
        return f"{path} failed to load, so opened {form} directly"
    await create.click()
    return ""


async def title_is(s: Story, text: str) -> None:
    """Page.Header puts the page's title last in the breadcrumb."""
    await shown(
        s,
        s.page.locator("header .breadcrumb").get_by_text(text, exact=False),
        f"page title {text!r}",
    )


async def submit(s: Story, button: Locator, url: str, what: str) -> re.Match[str]:
    """Click a form's submit button and wait for the page it leads to.

    Returns the match of `url` (a regex) on the new address. Fails at once on
    the danger alert Edgehog shows for a mutation's errors, and on timeout
    says which fields the form's own validation marked.
    """
    await button.click()
    alert = s.page.locator(".alert-danger")
    deadline = time.monotonic() + s.timeout
    while True:
        match = re.search(url, urlpath(s.page.url))
        if match:
            return match
        if await alert.count() and await alert.first.is_visible():
            text = " ".join((await alert.first.inner_text()).split())
            raise StepFailed(f"{what}: the UI says: {text[:300]}")
        if time.monotonic() > deadline:
            invalid = await s.page.locator(
                ".invalid-feedback:visible, .text-danger:visible"
            ).all_inner_texts()
            hint = (
                f"; form says: {'; '.join(t.strip() for t in invalid if t.strip())[:200]}"
                if invalid
                else ""
            )
            raise StepFailed(f"{what}: still on {urlpath(s.page.url)} after {s.timeout:.0f}s{hint}")
        await asyncio.sleep(0.2)


def urlpath(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0]


def form_field(s: Story, control_id: str) -> Locator:
    """The input column of the FormRow whose <label for=control_id> it is."""
    return s.page.locator(f'xpath=//label[@for="{control_id}"]/following-sibling::*[1]')


async def choose(s: Story, where: Locator, option: str, typed: str | None = None) -> None:
    """Pick `option` in the react-select inside `where` (typing narrows the list first)."""
    combobox = where.get_by_role("combobox").first
    await combobox.click()
    await combobox.press_sequentially(typed if typed is not None else option)
    await s.page.get_by_role("option", name=option, exact=True).first.click()


async def fill_json_editor(s: Story, where: Locator, text: str) -> None:
    """Replace the content of the Monaco editor inside `where` by pasting `text`.

    A paste, not typing: Monaco closes brackets and quotes as they are typed,
    and reformats valid JSON while it is typed. Checked by parsing what shows.
    """
    editor = where.locator(".monaco-editor").first
    try:
        await editor.wait_for(state="visible")
    except PlaywrightTimeout:
        raise StepFailed("the JSON editor (Monaco) did not load") from None
    await editor.locator(".view-lines").click()
    await s.page.keyboard.press("ControlOrMeta+A")
    await s.page.evaluate(PASTE, text)
    await expect(editor.locator(".view-lines")).to_contain_text(text.split('"')[1])
    shown_text = (await editor.locator(".view-lines").inner_text()).replace("\u00a0", " ")
    try:
        same = json.loads(shown_text) == json.loads(text)
    except ValueError:
        same = False
    if not same:
        raise StepFailed(f"the JSON editor shows {shown_text!r}, not {text!r}")


# A paste the way a browser delivers one to the focused element (Monaco's input).
PASTE = """text => {
  const data = new DataTransfer();
  data.setData("text/plain", text);
  const event = new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true});
  document.activeElement.dispatchEvent(event);
}"""


async def reload_until(s: Story, locator: Locator, what: str, seconds: float = DEVICE_WAIT) -> None:
    """Reload until `locator` shows: the state comes from queries, not subscriptions."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            await locator.first.wait_for(state="visible", timeout=3000)
            return
        except PlaywrightTimeout:
            pass
        if await s.page.get_by_text(PAGE_ERROR).is_visible():
            raise StepFailed(f"{what}: the page shows {PAGE_ERROR!r}")
        if time.monotonic() > deadline:
            raise StepFailed(f"{what}: not shown after {seconds:.0f}s of reloading")
        await s.page.reload()


async def api(s: Story, query: str, **variables: Any) -> dict[str, Any]:
    """A GraphQL request with the tenant-user token, off the event loop."""
    return await asyncio.to_thread(graphql, s.service, query, None, **variables)


def check_device(s: Story) -> None:
    """Fail with the simulated device's own error the first time it is seen stopped."""
    task = s.sim_task
    if task is None:
        raise Blocked("blocked: the simulated device is not running (step device-connect)")
    if s.sim_failure:
        raise Blocked(f"blocked: the simulated device stopped ({s.sim_failure})")
    if task.done():
        error = None if task.cancelled() else task.exception()
        s.sim_failure = f"at step {s.current_step}"
        raise StepFailed(f"the simulated device stopped: {repr(error)[:400]}")


def device_steps_can_run(s: Story) -> str:
    """What a step on the deployment needs: the deployment, and a device to act on it."""
    deployment: str = s.need(s.deployment_id, "a deployment", "deploy")
    check_device(s)
    return deployment


# --- live updates: a second tab --------------------------------------------------------------

LIVE_MARK = "__e2eLive"  # set on a watched page: a reload or a navigation loses it


@dataclass
class Request:
    """A GraphQL request a tab sent."""

    kind: str  # query, mutation
    name: str
    variables: str
    step: str  # the step it was sent in

    def __str__(self) -> str:
        return f"{self.name} {self.variables} (in step {self.step})"


@dataclass
class Watch:
    """A tab on a page whose subscriptions the server has answered: from here
    on, what changes there must come from live updates (`live_shows`, `unreloaded`)."""

    tab: str  # "A" (s.page) or "B"
    page: Page
    path: str
    mark: str
    sockets: int  # how many sockets the journal had when the watch began

    def what(self, thing: str) -> str:
        return f"tab {self.tab}: {thing}"


async def tab_b(s: Story) -> Page:
    """The second tab: a page of the same browser context, so already logged in
    (the UI keeps its session in a cookie). Opened once, reused by every step."""
    page = s.browser.tabs.get("B")
    if page is None or page.is_closed():
        page = await s.browser.new_tab("B")
        s.requests.pop("B", None)
    listen(s, "B", page)
    return page


def listen(s: Story, tab: str, page: Page) -> None:
    """Note the GraphQL requests the tab sends, in s.requests[tab] (once per tab)."""
    if tab in s.requests:
        return
    s.requests[tab] = []
    in_flight = s.in_flight.setdefault(tab, set())

    def graphql_post(request: Any) -> bool:
        return request.method == "POST" and bool(re.search(r"/tenants/[^/]+/api$", request.url))

    def note(request: Any) -> None:
        if graphql_post(request):
            kind, name = operation(request.post_data)
            try:
                variables = json.dumps(json.loads(request.post_data).get("variables"))
            except (TypeError, ValueError, AttributeError):
                variables = "?"
            s.requests[tab].append(Request(kind, name, variables[:120], s.current_step))
            in_flight.add(request)

    def answered(request: Any) -> None:
        in_flight.discard(request)

    page.on("request", note)
    page.on("requestfinished", answered)
    page.on("requestfailed", answered)


async def subscribed(s: Story, tab: str, operations: list[str], since: int) -> None:
    """Wait until the tab's sockets opened after journal index `since` include one
    subscribed to each of `operations` (the server answered its `doc` with ok).
    Only then can a change be expected to reach the page."""
    deadline = time.monotonic() + s.timeout
    sockets = s.browser.journal.sockets
    while True:
        mine = [k for k in sockets[since:] if k.tab == tab and k.operation in operations]
        failed = [k for k in mine if k.failure]
        if failed:
            raise StepFailed(f"subscription failed: {failed[0].describe()}")
        live = {k.operation for k in mine if k.subscribed and not k.closed}
        missing = [o for o in operations if o not in live]
        if not missing:
            return
        if time.monotonic() > deadline:
            sent = {k.operation for k in mine}
            state = [f"{o} ({'doc sent, no ok' if o in sent else 'no socket'})" for o in missing]
            raise StepFailed(
                f"tab {tab}: no answered subscription {', '.join(state)} after {s.timeout:.0f}s"
            )
        await asyncio.sleep(0.1)


async def watch(
    s: Story, tab: str, path: str, ready: Locator, what: str, operations: list[str]
) -> Watch:
    """Open `path` in the tab ("A" or "B"), wait for `ready`, for the page's
    `operations` to be subscribed and for the page to settle; then mark it."""
    page = await tab_b(s) if tab == "B" else s.page
    listen(s, tab, page)
    since = len(s.browser.journal.sockets)
    await page.goto(path)
    await shown(s, ready, f"tab {tab}: {what}", page)
    await subscribed(s, tab, operations, since)
    await settled(s, tab)
    mark = secrets.token_hex(6)
    await page.evaluate(f"mark => {{ window.{LIVE_MARK} = mark }}", mark)
    s.requests[tab].clear()
    return Watch(tab, page, urlpath(page.url), mark, since)


QUIET = 1.0  # seconds without a GraphQL request for a page to count as settled


async def settled(s: Story, tab: str) -> None:
    """Wait until the tab has no GraphQL request unanswered and sent none for QUIET s.

    A page may fetch again by itself just after it shows: the Devices page
    passes `searchText ?? ""` to useRelayConnectionPagination, whose debounced
    search refetches the list 500 ms after it mounts. What such a request
    brings must not be taken for a live update, so a watch starts after it.
    """
    deadline = time.monotonic() + s.timeout
    while True:
        sent = len(s.requests[tab])
        await asyncio.sleep(QUIET)
        if not s.in_flight.get(tab) and len(s.requests[tab]) == sent:
            return
        if time.monotonic() > deadline:
            pending = ", ".join(str(r) for r in s.requests[tab][sent:]) or "unanswered requests"
            raise StepFailed(f"tab {tab} did not settle in {s.timeout:.0f}s: {pending}")


def pushes(s: Story, w: Watch) -> int:
    """The `subscription:data` frames the watched page received since the watch began."""
    return sum(k.pushes for k in s.browser.journal.sockets[w.sockets :] if k.tab == w.tab)


async def live_shows(
    s: Story, w: Watch, locator: Locator, what: str, seconds: float | None = None
) -> None:
    """`locator` becomes visible in the watched tab, which is not reloaded meanwhile."""
    await live_wait(s, w, locator, "visible", what, seconds)


async def live_hides(
    s: Story, w: Watch, locator: Locator, what: str, seconds: float | None = None
) -> None:
    await live_wait(s, w, locator, "hidden", what, seconds)


async def live_wait(
    s: Story, w: Watch, locator: Locator, state: Any, what: str, seconds: float | None
) -> None:
    wait = seconds if seconds is not None else s.timeout
    try:
        await locator.first.wait_for(state=state, timeout=wait * 1000)
    except PlaywrightTimeout:
        raise StepFailed(
            f"{w.what(what)}: not {state} after {wait:.0f}s without reload"
            f" ({pushes(s, w)} subscription pushes received since the watch began)"
        ) from None
    await unreloaded(s, w)


async def unreloaded(s: Story, w: Watch) -> str:
    """The watched page was neither reloaded nor left, and sent no query: what it
    shows now came from its subscriptions. Returns a note for the step's line."""
    if w.page.is_closed() or urlpath(w.page.url) != w.path:
        raise StepFailed(f"tab {w.tab} left {w.path} (now at {urlpath(w.page.url)})")
    if await w.page.evaluate(f"() => window.{LIVE_MARK}") != w.mark:
        raise StepFailed(f"tab {w.tab} was reloaded while it was watched")
    queries = [str(r) for r in s.requests.get(w.tab, []) if r.kind != "mutation"]
    if queries:
        raise StepFailed(
            f"tab {w.tab} sent {'; '.join(queries)} while it was watched: not a live update"
        )
    return f"tab {w.tab}: {pushes(s, w)} pushes, no reload, no query"


# --- log in ------------------------------------------------------------------------------------


async def tenant_info(s: Story) -> str:
    """The UI accepts a login only when `{ tenantInfo { __typename } }` has no errors."""
    body = await api(s, "query Auth_getTenantInfo_Query { tenantInfo { __typename } }")
    if body.get("errors"):
        raise StepFailed(
            f"the service does not answer the UI's login probe: {error_messages(body)}"
        )
    return ""


async def login(s: Story) -> str:
    await goto(s, "/login")
    await s.page.get_by_placeholder("Tenant Slug").fill(TENANT)
    await s.page.get_by_placeholder("Auth Token").fill(s.service.token)
    await submit(s, s.page.get_by_role("button", name="Login"), r"^/devices", "login")
    # The app shell (its sidebar) is only there for a logged-in session; the
    # Devices page itself is checked by a later step.
    await expect(s.page.get_by_role("link", name="Logout")).to_be_visible()
    return "tenantInfo answered by the harness" if s.browser.journal.tenant_info_stubbed else ""


# --- image credentials -----------------------------------------------------------------------


def create_button(s: Story) -> Locator:
    """The submit button of Edgehog's create forms."""
    return s.page.get_by_role("button", name="Create", exact=True)


async def create_creds(s: Story, creds: dict[str, str]) -> str:
    note = await open_create_page(s, "/image-credentials", "Create Image Credentials")
    await shown(s, s.page.get_by_label("Label", exact=True), "the form")
    await s.page.get_by_label("Label", exact=True).fill(creds["label"])
    await s.page.get_by_label("Username", exact=True).fill(creds["username"])
    await s.page.get_by_label("Password", exact=True).fill(creds["password"])
    await submit(s, create_button(s), r"^/image-credentials$", "create")
    return note


async def creds_create(s: Story) -> str:
    note = await create_creds(s, CREDS)
    s.creds_id = "created"  # creds-open reads the real id
    return note


async def creds_list(s: Story) -> str:
    s.need(s.creds_id, "credentials", "creds-create")
    await goto(s, "/image-credentials")
    await shown(s, s.page.get_by_role("link", name=CREDS["label"]), "the credentials in the list")
    await expect(s.page.get_by_role("cell", name=CREDS["username"])).to_be_visible()
    return ""


async def creds_search(s: Story) -> str:
    """The search box refetches with an Ash filter (label or username ilike %text%)."""
    s.need(s.creds_id, "credentials", "creds-create")
    await goto(s, "/image-credentials")
    row = s.page.get_by_role("link", name=CREDS["label"])
    await shown(s, row, "the credentials in the list")
    search = s.page.get_by_placeholder("Search...")
    await search.fill("no-such-credentials")
    await expect(row).to_be_hidden()
    await search.fill(CREDS["username"][:4])  # matches the username only
    await expect(row).to_be_visible()
    return ""


async def creds_open(s: Story) -> str:
    s.need(s.creds_id, "credentials", "creds-create")
    await goto(s, "/image-credentials")
    await shown(s, s.page.get_by_role("link", name=CREDS["label"]), "the credentials in the list")
    await s.page.get_by_role("link", name=CREDS["label"]).click()
    await s.page.wait_for_url(re.compile(r"/image-credentials/[^/]+/edit$"))
    s.creds_id = s.page.url.rsplit("/", 2)[-2]
    await title_is(s, CREDS["label"])
    await expect(s.page.get_by_label("Username", exact=True)).to_have_value(CREDS["username"])
    return ""


async def creds_delete(s: Story) -> str:
    """Create a second set, open it, delete it through the confirmation modal."""
    note = await create_creds(s, CREDS_TO_DELETE)
    label = CREDS_TO_DELETE["label"]
    link = s.page.get_by_role("link", name=label)
    await shown(s, link, "the second credentials in the list")
    await link.click()
    await title_is(s, label)
    await s.page.get_by_role("button", name="Delete", exact=True).click()
    dialog = s.page.get_by_role("dialog")
    await dialog.get_by_placeholder(label).fill(label)  # DeleteModal wants the label typed
    delete = dialog.get_by_role("button", name="Delete", exact=True)
    await submit(s, delete, r"^/image-credentials$", "delete")
    await shown(s, s.page.get_by_role("link", name=CREDS["label"]), "the first credentials")
    await expect(link).to_be_hidden()
    return note


# --- volumes and networks -------------------------------------------------------------------


async def create_labelled(s: Story, section: str, button: str, thing: dict[str, str]) -> str:
    """The volume and network forms: label, driver, options as JSON (Monaco)."""
    note = await open_create_page(s, f"/{section}", button)
    await shown(s, s.page.get_by_label("Label", exact=True), "the form")
    await s.page.get_by_label("Label", exact=True).fill(thing["label"])
    await s.page.get_by_label("Driver", exact=True).fill(thing["driver"])
    options = "volumeOptions" if section == "volumes" else "networkOptions"
    await fill_json_editor(s, form_field(s, options), thing["options"])
    await submit(s, create_button(s), rf"^/{section}$", "create")
    return note


async def listed(s: Story, section: str, thing: dict[str, str]) -> None:
    await goto(s, f"/{section}")
    await shown(s, s.page.get_by_role("link", name=thing["label"]), f"{thing['label']} in the list")
    await expect(s.page.get_by_role("cell", name=thing["driver"], exact=True)).to_be_visible()


async def opened(s: Story, section: str, thing: dict[str, str], option_text: str) -> str:
    """Open from the list; returns the id the page's address shows."""
    await listed(s, section, thing)
    await s.page.get_by_role("link", name=thing["label"]).click()
    await title_is(s, thing["label"])
    await expect(s.page.get_by_label("Driver", exact=True)).to_have_value(thing["driver"])
    options = "volumeOptions" if section == "volumes" else "networkOptions"
    await expect(form_field(s, options)).to_contain_text(option_text)
    return urlpath(s.page.url).rsplit("/", 1)[-1]


async def volume_create(s: Story) -> str:
    note = await create_labelled(s, "volumes", "Create Volume", VOLUME)
    s.volume_id = "created"
    return note


async def volume_list(s: Story) -> str:
    s.need(s.volume_id, "a volume", "volume-create")
    await listed(s, "volumes", VOLUME)
    return ""


async def volume_open(s: Story) -> str:
    s.need(s.volume_id, "a volume", "volume-create")
    s.volume_id = await opened(s, "volumes", VOLUME, "tmpfs")
    return ""


async def network_create(s: Story) -> str:
    note = await create_labelled(s, "networks", "Create Network", NETWORK)
    s.network_id = "created"
    return note


async def network_list(s: Story) -> str:
    s.need(s.network_id, "a network", "network-create")
    await listed(s, "networks", NETWORK)
    return ""


async def network_open(s: Story) -> str:
    s.need(s.network_id, "a network", "network-create")
    s.network_id = await opened(s, "networks", NETWORK, "1400")
    return ""


# --- containers ---------------------------------------------------------------------------------


async def open_container_form(s: Story, name: str, image: str) -> str:
    note = await open_create_page(s, "/containers", "Create Container")
    await shown(s, s.page.get_by_label("Container Name"), "the container form")
    await s.page.get_by_label("Container Name").fill(name)
    await s.page.get_by_label("Image Reference", exact=True).fill(image)
    return note


async def save_container(s: Story, name: str) -> None:
    button = s.page.get_by_role("button", name="Create Container", exact=True)
    match = await submit(s, button, r"^/containers/(?!new$)([^/]+)$", "create")
    s.container_ids[name] = match.group(1)


async def container_create(s: Story) -> str:
    """A private image with its credentials, the volume, the network, a device mapping."""
    s.need(s.creds_id, "credentials", "creds-create")
    note = await open_container_form(s, WEB["name"], WEB["image"])
    await choose(s, form_field(s, "image-credentials"), CREDS_OPTION, CREDS["label"])
    if s.network_id:
        await choose(s, form_field(s, "networks"), NETWORK["label"])
    if s.volume_id:
        await s.page.get_by_role("button", name="Add Volume").click()
        await choose(s, form_field(s, "volume-0"), VOLUME["label"])
        await s.page.get_by_label("Target", exact=True).fill(WEB["target"])
    await s.page.get_by_role("button", name="Add Device Mapping").click()
    in_container, on_host, permissions = DEVICE_MAPPING
    await s.page.get_by_placeholder("e.g., /dev/net/1").nth(0).fill(in_container)
    await s.page.get_by_placeholder("e.g., /dev/net/1").nth(1).fill(on_host)
    await s.page.get_by_placeholder("e.g., mrw").fill(permissions)
    await save_container(s, WEB["name"])
    # Without them the container is still worth creating; the line says so.
    missing = [w for w, made in (("network", s.network_id), ("volume", s.volume_id)) if not made]
    without = f"without {' and '.join(missing)} (not created)" if missing else ""
    return "; ".join(n for n in (without, note) if n)


async def container_list(s: Story) -> str:
    s.need(s.container_ids.get(WEB["name"]), "a container", "container-create")
    await goto(s, "/containers")
    await shown(s, s.page.get_by_role("link", name=WEB["name"]), "the container in the list")
    await expect(s.page.get_by_role("cell", name=WEB["image"])).to_be_visible()
    return ""


async def container_open(s: Story) -> str:
    s.need(s.container_ids.get(WEB["name"]), "a container", "container-create")
    await goto(s, "/containers")
    await shown(s, s.page.get_by_role("link", name=WEB["name"]), "the container in the list")
    await s.page.get_by_role("link", name=WEB["name"]).click()
    await title_is(s, WEB["name"])
    await expect(s.page.locator("#image-reference")).to_have_value(WEB["image"])
    await expect(s.page.locator("#image-credentials")).to_have_value(CREDS_OPTION)
    return ""


async def container2_create(s: Story) -> str:
    """A public image: no credentials."""
    note = await open_container_form(s, WORKER["name"], WORKER["image"])
    await save_container(s, WORKER["name"])
    return note


# --- applications and releases ---------------------------------------------------------------


async def create_application(s: Story, app: dict[str, str]) -> tuple[str, str]:
    """Through the form; returns the new application's id and a note for the step's line."""
    note = await open_create_page(s, "/applications", "Create Application")
    await shown(s, s.page.get_by_label("Name", exact=True), "the form")
    await s.page.get_by_label("Name", exact=True).fill(app["name"])
    await s.page.get_by_label("Description", exact=True).fill(app["description"])
    match = await submit(s, create_button(s), r"^/applications/(?!new$)([^/]+)$", "create")
    return match.group(1), note


async def app_create(s: Story) -> str:
    s.app_id, note = await create_application(s, APP)
    return note


async def app_open(s: Story) -> str:
    s.need(s.app_id, "an application", "app-create")
    await goto(s, "/applications")
    await shown(s, s.page.get_by_role("link", name=APP["name"]), "the application in the list")
    await s.page.get_by_role("link", name=APP["name"]).click()
    await title_is(s, APP["name"])
    await expect(s.page.get_by_label("Description")).to_have_value(APP["description"])
    return ""


APPLICATIONS_SUBSCRIPTION = "Applications_ApplicationSubscription"


async def watch_applications(s: Story, name: str) -> Watch:
    """Tab B on the Applications list (`application { created updated destroyed }`)."""
    page = await tab_b(s)
    return await watch(
        s,
        "B",
        "/applications",
        page.get_by_role("link", name=name),
        f"{name} in the applications list",
        [APPLICATIONS_SUBSCRIPTION],
    )


async def live_app_create(s: Story) -> str:
    """Tab B shows the list; tab A creates an application through the form;
    tab B lists it without reload."""
    s.need(s.app_id, "an application", "app-create")
    b = await watch_applications(s, APP["name"])
    s.live_app_id, note = await create_application(s, LIVE_APP)
    name = LIVE_APP["name"]
    await live_shows(s, b, b.page.get_by_role("link", name=name), f"{name} in the list")
    return "; ".join(n for n in (await unreloaded(s, b), note) if n)


async def live_app_delete(s: Story) -> str:
    """Tab A deletes that application from its list (the row's delete button and
    the confirmation modal); tab B's list drops it without reload."""
    s.need(s.live_app_id, "the second application", "live-app-create")
    name = LIVE_APP["name"]
    b = await watch_applications(s, name)
    await goto(s, "/applications")
    link = s.page.get_by_role("link", name=name)
    await shown(s, link, f"{name} in tab A's list")
    await s.page.get_by_role("row").filter(has=link).get_by_role("button").click()
    dialog = s.page.get_by_role("dialog")
    await dialog.get_by_placeholder(name).fill(name)  # DeleteModal wants the name typed
    await dialog.get_by_role("button", name="Delete", exact=True).click()
    try:
        await expect(dialog).to_be_hidden()  # it closes once deleteApplication succeeded
    except AssertionError:
        alert = s.page.locator(".alert-danger")
        said = " ".join((await alert.first.inner_text()).split()) if await alert.count() else ""
        raise StepFailed(f"tab A: the delete dialog stays open; {said or 'no message'}") from None
    s.live_app_id = ""
    await live_hides(s, b, b.page.get_by_role("link", name=name), f"{name} in the list")
    return await unreloaded(s, b)


async def create_release(s: Story, version: str, containers: list[str]) -> str:
    s.need(s.app_id, "an application", "app-create")
    for name in containers:
        s.need(s.container_ids.get(name), f"container {name}", "container-create")
    note = await open_create_page(
        s, f"/applications/{s.app_id}", "Create Release", f"/applications/{s.app_id}/release/new"
    )
    await shown(s, s.page.get_by_label("Version"), "the release form")
    await s.page.get_by_label("Version").fill(version)
    for name in containers:
        await choose(s, form_field(s, "containers"), name)
    await submit(s, create_button(s), rf"^/applications/{re.escape(s.app_id)}$", "create")
    link = s.page.get_by_role("link", name=version, exact=True)
    try:
        await shown(s, link, f"release {version} in the application's releases")
    except StepFailed:
        # Created all the same: let the release's own page be checked next.
        s.release_ids[version] = await release_id(s, version)
        raise
    s.release_ids[version] = (await link.get_attribute("href") or "").rstrip("/").rsplit("/", 1)[-1]
    return note


RELEASES = """
query($id: ID!) {
  application(id: $id) { releases(first: 50) { edges { node { id version } } } }
}"""


async def release_id(s: Story, version: str) -> str:
    """The id of a release of the story's application, asked of the API."""
    body = await api(s, RELEASES, id=s.app_id)
    application = (body.get("data") or {}).get("application") or {}
    edges = (application.get("releases") or {}).get("edges") or []
    return next((e["node"]["id"] for e in edges if e["node"]["version"] == version), "")


async def open_release(s: Story, version: str, containers: list[str]) -> None:
    release = s.need(s.release_ids.get(version), f"release {version}", f"release-{version}")
    await goto(s, f"/applications/{s.app_id}/release/{release}")
    await title_is(s, f"(v{version})")
    for name in containers:
        await shown(
            s, in_page(s).get_by_text(name, exact=True), f"container {name} on the release page"
        )


async def release_100(s: Story) -> str:
    return await create_release(s, "1.0.0", [WEB["name"]])


async def release_page(s: Story) -> str:
    await open_release(s, "1.0.0", [WEB["name"]])
    return ""


async def release_110(s: Story) -> str:
    note = await create_release(s, "1.1.0", [WEB["name"], WORKER["name"]])
    await open_release(s, "1.1.0", [WEB["name"], WORKER["name"]])
    return note


# --- the device -------------------------------------------------------------------------------

CREATE_DEVICE = """
mutation($input: CreateDeviceInput!) {
  createDevice(input: $input) { result { id deviceId name } deviceToken }
}"""


async def device_register(s: Story) -> str:
    """Through the API: the UI has no form for it (Edgehog's devices come from Astarte)."""
    body = await api(s, CREATE_DEVICE, input=DEVICE)
    created = (body.get("data") or {}).get("createDevice") or {}
    if body.get("errors") or not created.get("result"):
        raise StepFailed(f"createDevice: {error_messages(body) or body}")
    s.device_id = created["result"]["id"]
    s.device_token = created.get("deviceToken") or ""
    return "via the createDevice mutation"


async def device_connect(s: Story) -> str:
    """Start tests.edgehog.device_sim for the registered device, in the background."""
    assert s.device_sim is not None  # the runner skips this step otherwise
    token = s.need(s.device_token, "a device token", "device-register")
    s.sim_task = asyncio.create_task(
        s.device_sim.run_device(s.service.url.rstrip("/"), TENANT, token, s.sim_stop, seen=s.sims),
        name="device-sim",
    )
    await asyncio.sleep(1)
    check_device(s)
    return ""


DEVICES_SUBSCRIPTIONS = [
    "DevicesTable_deviceChanged_created_Subscription",
    "DevicesTable_deviceChanged_updated_Subscription",
]


def device_row(page: Page) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=DEVICE["name"]))


async def live_devices_open(s: Story) -> str:
    """Tab B opens the device list before the device exists, and stays on it
    through the next steps (`deviceChanged { created }`, `{ updated }`)."""
    page = await tab_b(s)
    s.devices_watch = await watch(
        s,
        "B",
        "/devices",
        page.locator("header .breadcrumb").get_by_text("Devices"),
        "the device list",
        DEVICES_SUBSCRIPTIONS,
    )
    return ""


async def live_device_created(s: Story) -> str:
    """The device registered through the API appears in tab B, Offline, without reload."""
    s.need(s.device_id, "a device", "device-register")
    w: Watch = s.need(s.devices_watch, "tab B on the device list", "live-devices-open")
    link = w.page.get_by_role("link", name=DEVICE["name"])
    await live_shows(s, w, link, "the registered device in the list")
    await expect(device_row(w.page).get_by_text("Offline", exact=True)).to_be_visible()
    return await unreloaded(s, w)


async def live_device_online(s: Story) -> str:
    """The simulated device's first requests bring it online: tab B says so without reload."""
    w: Watch = s.need(s.devices_watch, "tab B on the device list", "live-devices-open")
    check_device(s)
    online = device_row(w.page).get_by_text("Online", exact=True)
    await live_shows(s, w, online, "the device Online in the list", DEVICE_WAIT)
    return await unreloaded(s, w)


async def devices_list(s: Story) -> str:
    s.need(s.device_id, "a device", "device-register")
    await goto(s, "/devices")
    await shown(s, s.page.get_by_role("link", name=DEVICE["name"]), "the device in the list")
    return ""


async def open_device_applications(s: Story, navigate: bool = True) -> None:
    """The device page's Applications tab (`navigate=False`: the page is open already)."""
    device = s.need(s.device_id, "a device", "device-register")
    if navigate:
        await goto(s, f"/devices/{device}/edit")
    await title_is(s, DEVICE["name"])
    tab = in_page(s).get_by_role("button", name="Applications", exact=True)
    await shown(s, tab, "the Applications tab (shown when the device has CONTAINER_MANAGEMENT)")
    await tab.click()
    await shown(s, s.page.get_by_text("Install Applications"), "the Applications tab")


async def device_page(s: Story) -> str:
    """From the list when it loads, else straight to the device's address."""
    device = s.need(s.device_id, "a device", "device-register")
    await goto(s, "/devices")
    link = s.page.get_by_role("link", name=DEVICE["name"])
    try:
        await shown(s, link, "the device in the list")
    except StepFailed:
        await open_device_applications(s)
        return f"/devices failed to load, so opened /devices/{device}/edit directly"
    await link.click()
    await open_device_applications(s, navigate=False)
    return ""


async def deploy(s: Story) -> str:
    s.need(s.release_ids.get("1.0.0"), "release 1.0.0", "release-1.0.0")
    await open_device_applications(s)
    await choose(s, form_field(s, "select-application"), APP["name"])
    await choose(s, form_field(s, "select-release"), "1.0.0")
    button = in_page(s).get_by_role("button", name="Deploy", exact=True)
    match = await submit(s, button, r"^/devices/[^/]+/deployment/([^/]+)$", "deploy")
    # The id as the API knows it: the address holds it percent-encoded.
    s.deployment_id = urllib.parse.unquote(match.group(1))
    await title_is(s, f"{APP['name']}: 1.0.0")
    return ""


async def deployment_state(s: Story, deployment: str) -> str:
    body = await api(s, "query($id: ID!) { deployment(id: $id) { state } }", id=deployment)
    return str(
        ((body.get("data") or {}).get("deployment") or {}).get("state") or error_messages(body)
    )


async def device_started(s: Story) -> str:
    """The simulated device fetches what it must do and reports it has it all (the
    deployment is ready, STOPPED, as Edgehog's runtime reports a new deployment);
    Start on the deployment page, and the device reports it started."""
    deployment = device_steps_can_run(s)
    await goto(s, deployment_path(s))
    await reload_until(
        s, s.page.get_by_title("Start Deployment"), "the Start button of a ready deployment"
    )
    await s.page.get_by_title("Start Deployment").click()
    deadline = time.monotonic() + DEVICE_WAIT
    while (state := await deployment_state(s, deployment)).upper() != "STARTED":
        check_device(s)
        if time.monotonic() > deadline:
            raise StepFailed(f"deployment state is {state!r} after {DEVICE_WAIT:.0f}s, not STARTED")
        await asyncio.sleep(1)
    return ""


def deployment_path(s: Story) -> str:
    deployment = s.need(s.deployment_id, "a deployment", "deploy")
    return f"/devices/{s.device_id}/deployment/{deployment}"


async def ui_started(s: Story) -> str:
    """Started: the deployment page offers Stop, the device page shows the badge."""
    device_steps_can_run(s)
    await goto(s, deployment_path(s))
    await reload_until(
        s, s.page.get_by_title("Stop Deployment"), "the Stop button of a started deployment"
    )
    await open_device_applications(s)
    await shown(
        s, in_page(s).get_by_text("Started", exact=True), "the Started badge on the device page"
    )
    return ""


async def deployments_list(s: Story) -> str:
    """The Deployments page lists it; its search goes through the release's
    application and the device (Ash filters on related objects)."""
    device_steps_can_run(s)
    await goto(s, "/deployments")
    row = s.page.get_by_role("link", name=DEVICE["name"])
    await shown(s, row, "the deployment in the list")
    await expect(s.page.get_by_role("link", name=APP["name"])).to_be_visible()
    search = s.page.get_by_placeholder("Search...")
    await search.fill("no-such-deployment")
    await expect(row).to_be_hidden()
    await search.fill(APP["name"][:6])  # the application's name, through the release
    await expect(row).to_be_visible()
    return ""


async def stop(s: Story) -> str:
    device_steps_can_run(s)
    await goto(s, deployment_path(s))
    await reload_until(s, s.page.get_by_title("Stop Deployment"), "the Stop button")
    await s.page.get_by_title("Stop Deployment").click()
    await reload_until(
        s, s.page.get_by_title("Start Deployment"), "the Start button of a stopped deployment"
    )
    return ""


async def ui_stopped(s: Story) -> str:
    device_steps_can_run(s)
    await open_device_applications(s)
    await reload_until(
        s, in_page(s).get_by_text("Stopped", exact=True), "the Stopped badge on the device page"
    )
    return ""


DEPLOYMENT_SUBSCRIPTION = "Deployment_deployment_updated_Subscription"  # deploymentById


async def watch_deployment_page(s: Story, button: str) -> Watch:
    """Tab A on the deployment page, showing `button` ("Start", "Stop")."""
    return await watch(
        s,
        "A",
        deployment_path(s),
        s.page.get_by_title(f"{button} Deployment"),
        f"the {button} button",
        [DEPLOYMENT_SUBSCRIPTION],
    )


def deployment_row(page: Page, version: str) -> Locator:
    """The Deployments list's row of the story's device and `version`."""
    return (
        page.get_by_role("row")
        .filter(has=page.get_by_role("link", name=DEVICE["name"]))
        .filter(has=page.get_by_role("link", name=version, exact=True))
    )


async def live_deployment_start(s: Story) -> str:
    """Tab B on the Deployments list, tab A on the (stopped) deployment's page:
    Start in tab A; once the device reports it started, tab A's page offers
    Stop and tab B's list says Started, both without reload (the start
    mutation answers only an id: the state comes from `deploymentById` and
    `deployment { updated }`)."""
    device_steps_can_run(s)
    page = await tab_b(s)
    row = deployment_row(page, "1.0.0")
    b = await watch(
        s,
        "B",
        "/deployments",
        row.get_by_text("Stopped", exact=True),
        "the deployment Stopped in the list",
        ["Deployments_deployment_updated_Subscription"],
    )
    a = await watch_deployment_page(s, "Start")
    await s.page.get_by_title("Start Deployment").click()
    stop_button = s.page.get_by_title("Stop Deployment")
    await live_shows(s, a, stop_button, "the Stop button of the started deployment", DEVICE_WAIT)
    started = row.get_by_text("Started", exact=True)
    await live_shows(s, b, started, "the deployment Started in the list", DEVICE_WAIT)
    return f"{await unreloaded(s, a)}; {await unreloaded(s, b)}"


async def live_deployment_stop(s: Story) -> str:
    """Tab B on the device's Applications tab, tab A on the deployment's page:
    Stop in tab A; tab A's page offers Start again and tab B's badge says
    Stopped, without reload (`deploymentById`, `deploymentsByDevice { updated }`)."""
    device_steps_can_run(s)
    page = await tab_b(s)
    tab = page.get_by_test_id("page")
    b = await watch(
        s,
        "B",
        f"/devices/{s.device_id}/edit/device-applications-tab",
        tab.get_by_text("Started", exact=True),
        "the Started badge on the device's Applications tab",
        ["ApplicationsTab_deploymentsUpdated_Subscription"],
    )
    a = await watch_deployment_page(s, "Stop")
    await s.page.get_by_title("Stop Deployment").click()
    start_button = s.page.get_by_title("Start Deployment")
    await live_shows(s, a, start_button, "the Start button of the stopped deployment", DEVICE_WAIT)
    stopped = tab.get_by_text("Stopped", exact=True)
    await live_shows(s, b, stopped, "the Stopped badge", DEVICE_WAIT)
    return f"{await unreloaded(s, a)}; {await unreloaded(s, b)}"


async def upgrade(s: Story) -> str:
    s.need(s.release_ids.get("1.1.0"), "release 1.1.0", "release-1.1.0")
    before = device_steps_can_run(s)
    await goto(s, deployment_path(s))
    await shown(s, s.page.get_by_title("Upgrade Deployment"), "the Upgrade button")
    await s.page.get_by_title("Upgrade Deployment").click()
    dialog = s.page.get_by_role("dialog")
    await choose(s, dialog, "1.1.0")
    button = dialog.get_by_role("button", name="Confirm")
    match = await submit(
        s, button, rf"^/devices/[^/]+/deployment/(?!{re.escape(before)}$)([^/]+)$", "upgrade"
    )
    s.deployment_id = urllib.parse.unquote(match.group(1))
    await title_is(s, f"{APP['name']}: 1.1.0")
    await reload_until(s, s.page.get_by_title("Stop Deployment"), "the upgraded deployment started")
    return ""


async def device_auth(s: Story) -> str:
    """Every pull the device made came with exactly its image's credentials."""
    device_steps_can_run(s)
    if not s.sims:
        raise StepFailed("the simulated device is not running")
    pulls = {p.reference: p.auth for p in s.sims[0].pulls}
    expected = {
        WEB["image"]: {
            "username": CREDS["username"],
            "password": CREDS["password"],
            "serveraddress": "ghcr.io",
        },
        WORKER["image"]: None,  # public: registryAuth ""
    }
    if pulls != expected:
        shown = {ref: (auth or {}).get("username") for ref, auth in pulls.items()}
        raise StepFailed(
            f"the device pulled {shown}, expected web with credentials, worker without"
        )
    return f"{len(pulls)} pulls, each with its own registry auth"


async def delete(s: Story) -> str:
    deployment = device_steps_can_run(s)
    await goto(s, deployment_path(s))
    await shown(s, s.page.get_by_title("Delete Deployment"), "the Delete button")
    await s.page.get_by_title("Delete Deployment").click()
    dialog = s.page.get_by_role("dialog")
    await dialog.get_by_placeholder(APP["name"]).fill(APP["name"])
    button = dialog.get_by_role("button", name="Delete", exact=True)
    await submit(s, button, r"^/devices/[^/]+/edit/device-applications-tab$", "delete")
    deadline = time.monotonic() + DEVICE_WAIT
    while (state := await deployment_state(s, deployment)) and "not found" not in state.lower():
        if time.monotonic() > deadline:
            raise StepFailed(f"deployment still there after {DEVICE_WAIT:.0f}s (state {state!r})")
        await asyncio.sleep(1)
    return ""


async def live_sockets(s: Story) -> str:
    """No websocket of the run failed: every one the UI opened was admitted, its
    join and its subscription answered with ok, and no push carried errors.
    A subscription to a field the schema lacks (a feature the service does not
    offer, like a failing query of one) is named on the step's line, not failed."""
    journal = s.browser.journal
    failures = journal.socket_failures()
    if failures:
        raise StepFailed(f"{len(failures)} failed, first: {' | '.join(failures[:3])}")
    if not journal.sockets:
        raise StepFailed("the UI opened no websocket: its pages subscribe to nothing here")
    subscribed = sum(1 for k in journal.sockets if k.subscribed)
    received = sum(k.pushes for k in journal.sockets)
    note = f"{len(journal.sockets)} sockets, {subscribed} subscribed, {received} pushes"
    missing = sorted(set(journal.unsupported_subscriptions().values()))
    if missing:
        note += f"; not in the schema (listed below): {', '.join(missing)}"
    return note


STEPS = [
    Step(
        "tenant-info",
        "the service answers tenantInfo (the UI's login probe)",
        tenant_info,
        ui=False,
    ),
    Step("login", "log in with tenant slug and token", login),
    Step("creds-create", "Image credentials: create (label, username, password)", creds_create),
    Step("creds-list", "Image credentials: listed", creds_list),
    Step("creds-search", "Image credentials: search box filters the list", creds_search),
    Step("creds-open", "Image credentials: open", creds_open),
    Step("creds-delete", "Image credentials: create a second one and delete it", creds_delete),
    Step("volume-create", "Volumes: create (label, driver, options JSON)", volume_create),
    Step("volume-list", "Volumes: listed", volume_list),
    Step("volume-open", "Volumes: open", volume_open),
    Step("network-create", "Networks: create (label, driver, options JSON)", network_create),
    Step("network-list", "Networks: listed", network_list),
    Step("network-open", "Networks: open", network_open),
    Step(
        "container-create",
        "Containers: private image + credentials, volume, network, device",
        container_create,
    ),
    Step("container-list", "Containers: listed", container_list),
    Step("container-open", "Containers: open, image and credentials shown", container_open),
    Step("app-create", "Applications: create (name, description)", app_create),
    Step("app-open", "Applications: open", app_open),
    Step(
        "live-app-create",
        "Applications: tab A creates one, tab B lists it without reload",
        live_app_create,
    ),
    Step(
        "live-app-delete",
        "Applications: tab A deletes it, tab B drops it without reload",
        live_app_delete,
    ),
    Step("release-1.0.0", "Releases: create 1.0.0 with the container", release_100),
    Step("release-page", "Releases: the release page shows the container", release_page),
    Step("container-2", "Containers: a second one (public image)", container2_create),
    Step("release-1.1.0", "Releases: create 1.1.0 with both containers", release_110),
    Step("live-devices-open", "Devices: tab B opens the (empty) device list", live_devices_open),
    Step("device-register", "Devices: register a device (API)", device_register, ui=False),
    Step(
        "live-device-new",
        "Devices: tab B lists the new device, Offline, without reload",
        live_device_created,
    ),
    Step("device-connect", "the simulated device connects", device_connect, device=True, ui=False),
    Step(
        "live-device-online",
        "Devices: tab B shows it Online without reload",
        live_device_online,
        device=True,
    ),
    Step("devices-list", "Devices: the device list shows it", devices_list),
    Step("device-page", "Devices: device page, Applications tab", device_page),
    Step("deploy", "Deploy release 1.0.0 from the device page", deploy),
    Step(
        "device-started",
        "the device fetches its payload and reports it started",
        device_started,
        device=True,
        ui=False,
    ),
    Step("ui-started", "the UI shows the deployment started", ui_started, device=True),
    Step("stop", "stop it; the device reports it stopped", stop, device=True),
    Step("ui-stopped", "the UI shows it stopped", ui_stopped, device=True),
    Step(
        "deployments-list",
        "Deployments: listed, and found by application name",
        deployments_list,
        device=True,
    ),
    Step(
        "live-deploy-start",
        "Start in tab A: its page and tab B's Deployments list follow, no reload",
        live_deployment_start,
        device=True,
    ),
    Step(
        "live-deploy-stop",
        "Stop in tab A: its page and tab B's device Applications tab follow",
        live_deployment_stop,
        device=True,
    ),
    Step("upgrade", "upgrade to 1.1.0; the device starts it", upgrade, device=True),
    Step(
        "device-auth",
        "the device got the right Docker auth for every pull",
        device_auth,
        device=True,
    ),
    Step("delete", "delete the deployment", delete, device=True),
    Step(
        "live-sockets",
        "no websocket failed (refused, error replies, socket errors)",
        live_sockets,
        ui=False,
    ),
]
