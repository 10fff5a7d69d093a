// Vigil portal web page: plain ES module, no framework, no build step.
// Talks to the portal's JSON API under /api/v1 with the session cookie; every write carries
// the session's CSRF token in X-CSRF-Token. Errors are shown from {"error":{"message"}}.
// Data from the API is only ever inserted with textContent (never as HTML).

import {
    ApiError, api, itemsOf, nextCursorOf, setCsrf, setCsrfRefresh,
} from './api.js';
import { loadFuzzJobs, wireFuzz } from './fuzz.js';
import { hideWebhookSecret, loadNotifications, wireNotifications } from './notifications.js';
import { apiClaritySnippet, fluentBitSnippet, meshConfigSnippet } from './snippets.js';
import { loadReport } from './report.js';
import { specsClustersChanged, wireSpecs } from './specs.js';
import { loadTopology } from './topology.js';
import {
    $, announce, badge, busy, checkForm, clearAlert, copyFrom, el, field, formatTime,
    labelCells, offendingRules, showError, showOk, withBusy,
} from './ui.js';

const state = {
    session: null,        // the GET /api/v1/session answer, null when logged out
    findingsCursor: null,
    findingsFilters: null, // URLSearchParams of the filters the list was loaded with
    apisCursor: null,
    manifestLoaded: false,
    ingestToken: '',
    flash: null,          // {ok, text}: shown once the next view is displayed
    routed: false,        // the first view was shown (later views move the focus)
    afterLogin: null,     // the view asked for before logging in
    clustersTimer: 0,     // refresh of the clusters list while one is pending
};

// ---------------------------------------------------------------------------- errors

// Shows a message after the coming navigation (which clears the previous alert).
function flash(ok, text) {
    state.flash = { ok, text };
}

function reportError(err) {
    if (err instanceof ApiError && err.status === 401 && state.session) {
        setSession(null);
        flash(false, 'Your session has ended. Log in again.');
        navigate('#/login');
        return;
    }
    showError(err.message || String(err), offendingRules(err.details));
}

// ---------------------------------------------------------------------------- session

function setSession(session) {
    state.session = session;
    setCsrf(session ? session.csrf_token || '' : '');
    const loggedIn = Boolean(session);
    $('mainnav').hidden = !loggedIn;
    $('account').hidden = !loggedIn;
    $('account-name').textContent = loggedIn ? session.email || '' : '';
    $('account-org').textContent = loggedIn ? session.organization || '' : '';
}

async function loadSession() {
    try {
        setSession(await api('GET', '/session'));
    } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) {
            throw err;
        }
        setSession(null);
    }
    return state.session;
}

// ---------------------------------------------------------------------------- views

const PUBLIC_VIEWS = new Set(['signup', 'login', 'welcome', 'notfound']);
const VIEW_LOADERS = {
    clusters: loadClusters,
    connect: loadConnect,
    findings: () => loadFindings(false),
    apis: () => loadApis(false),
    topology: loadTopology,
    report: loadReport,
    tests: loadFuzzJobs,
    notifications: loadNotifications,
    usage: loadUsage,
};

function viewFromHash() {
    const name = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
    return name || (state.session ? 'clusters' : 'login');
}

function showView(name) {
    for (const section of document.querySelectorAll('main > .view')) {
        section.hidden = section.id !== `view-${name}`;
    }
    for (const link of document.querySelectorAll('[data-nav]')) {
        if (link.dataset.nav === name) {
            link.setAttribute('aria-current', 'page');
        } else {
            link.removeAttribute('aria-current');
        }
    }
    const heading = document.querySelector(`#view-${name} h1`);
    document.title = heading ? `${heading.textContent.trim()} · Vigil` : 'Vigil';
}

async function route() {
    let name = viewFromHash();
    if (!$(`view-${name}`) || name === 'loading') {
        name = 'notfound';
    }
    if (!PUBLIC_VIEWS.has(name) && !state.session) {
        state.afterLogin = `#/${name}`;
        location.replace('#/login');
        return;
    }
    if ((name === 'login' || name === 'signup') && state.session) {
        location.replace('#/clusters');
        return;
    }
    if (name === 'welcome' && !$('welcome-key').value) {
        location.replace(state.session ? '#/clusters' : '#/login');
        return;
    }
    if (name !== 'welcome') {
        $('welcome-key').value = '';         // the API key is shown once
    }
    if (name !== 'connect') {
        resetConnect();                      // and so is an ingest token
    }
    if (name !== 'notifications') {
        hideWebhookSecret();                 // and a webhook's signing secret
    }
    showView(name);
    showFlash();
    if (state.routed) {
        focusView(name);
    }
    state.routed = true;
    const loader = VIEW_LOADERS[name];
    if (loader) {
        try {
            await loader();
        } catch (err) {
            reportError(err);
        }
    }
}

function showFlash() {
    if (state.flash) {
        (state.flash.ok ? showOk : showError)(state.flash.text);
        state.flash = null;
    }
}

// After a navigation the keyboard focus moves to the new view's heading, so that Tab
// continues from the top of the view and screen readers announce it.
function focusView(name) {
    const heading = document.querySelector(`#view-${name} h1`);
    if (heading) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: false });
    }
}

function navigate(hash) {
    if (location.hash === hash) {
        route();
    } else {
        location.hash = hash;
    }
}

// ---------------------------------------------------------------------------- sign up, log in

async function onSignup(event) {
    event.preventDefault();
    clearAlert();
    const form = event.currentTarget;
    if (!checkForm(form)) {
        return;
    }
    const body = {
        email: field(form, 'email').value.trim(),
        password: field(form, 'password').value,
        organization: field(form, 'organization').value.trim(),
    };
    const button = form.querySelector('button[type=submit]');
    await withBusy(button, async () => {
        try {
            const created = await api('POST', '/signup', body);
            if (!(await loadSession())) {
                await api('POST', '/login', { email: body.email, password: body.password });
                await loadSession();
            }
            form.reset();
            $('welcome-key').value = created.api_key || '';
            announce('Account created.');
            navigate(created.api_key ? '#/welcome' : '#/connect');
        } catch (err) {
            reportError(err);
        }
    });
}

async function onLogin(event) {
    event.preventDefault();
    clearAlert();
    const form = event.currentTarget;
    if (!checkForm(form)) {
        return;
    }
    const button = form.querySelector('button[type=submit]');
    await withBusy(button, async () => {
        try {
            await api('POST', '/login', {
                email: field(form, 'email').value.trim(), password: field(form, 'password').value,
            });
            await loadSession();
            if (!state.session) {
                throw new ApiError(401, 'session', 'Logged in, but the browser did not keep '
                    + 'the session cookie. Allow cookies for this site.');
            }
            form.reset();
            announce('Logged in.');
            navigate(state.afterLogin || '#/clusters');
            state.afterLogin = null;
        } catch (err) {
            field(form, 'password').value = '';
            field(form, 'password').focus();
            reportError(err);
        }
    });
}

async function onLogout() {
    clearAlert();
    try {
        await api('POST', '/logout', {});
    } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) {
            reportError(err);
            return;
        }
    }
    setSession(null);
    flash(true, 'You are logged out.');
    navigate('#/login');
}

// ---------------------------------------------------------------------------- clusters

async function loadClusters() {
    window.clearTimeout(state.clustersTimer);
    const data = await api('GET', '/clusters');
    const clusters = itemsOf(data, 'clusters');
    const body = $('clusters-table').querySelector('tbody');
    body.replaceChildren(...clusters.map(clusterRow));
    labelCells($('clusters-table'));
    specsClustersChanged(clusters);
    $('clusters-empty').hidden = clusters.length > 0;
    $('clusters-table').hidden = clusters.length === 0;
    // A first inventory is being taken: look again shortly while the list is shown.
    if (clusters.some((c) => c.status === 'pending')) {
        state.clustersTimer = window.setTimeout(() => {
            if (viewFromHash() === 'clusters' && state.session) {
                loadClusters().catch(reportError);
            }
        }, 5000);
    }
}

function clusterRow(cluster) {
    const id = cluster.id || cluster.cluster_id;
    const status = cluster.status || 'pending';
    const statusBox = el('div', {}, badge(status));
    if (cluster.status_message) {
        statusBox.append(el('span', { class: 'cell-note', text: cluster.status_message }));
    }
    const statusCell = el('td', {}, statusBox);
    const sync = el('button', { type: 'button', class: 'btn btn-small', text: 'Sync now' });
    sync.addEventListener('click', () => syncCluster(id, cluster.name, sync));
    const remove = el('button', { type: 'button', class: 'btn btn-small btn-danger',
        text: 'Remove', 'aria-label': `Remove cluster ${cluster.name}` });
    remove.addEventListener('click', () => removeCluster(id, cluster.name, remove));
    sync.setAttribute('aria-label', `Sync cluster ${cluster.name} now`);
    return el('tr', {},
        el('th', { scope: 'row', text: cluster.name }),
        el('td', { class: 'mono', text: cluster.server || '' }),
        statusCell,
        el('td', { text: formatTime(cluster.last_sync_at) }),
        el('td', { class: 'mono', text: cluster.ingest_token_prefix
            ? `${cluster.ingest_token_prefix}…` : '–' }),
        el('td', { class: 'actions' }, sync, remove));
}

async function syncCluster(id, name, button) {
    clearAlert();
    await withBusy(button, async () => {
        try {
            await api('POST', `/clusters/${encodeURIComponent(id)}/sync`, {});
            showOk(`A sync of ${name} was requested.`);
        } catch (err) {
            reportError(err);
        }
    });
}

async function removeCluster(id, name, button) {
    clearAlert();
    if (!window.confirm(`Remove cluster ${name}? Its credential, inventory and findings are `
        + 'deleted.')) {
        return;
    }
    await withBusy(button, async () => {
        try {
            await api('DELETE', `/clusters/${encodeURIComponent(id)}`);
            showOk(`Cluster ${name} was removed.`);
            await loadClusters();
        } catch (err) {
            reportError(err);
        }
    });
}

// ---------------------------------------------------------------------------- connect

async function loadConnect() {
    if (state.manifestLoaded) {
        return;
    }
    const pre = $('manifest');
    try {
        const text = await api('GET', '/onboarding/manifest.yaml', undefined,
            { accept: 'application/yaml, text/yaml, text/plain' });
        pre.textContent = typeof text === 'string' ? text : JSON.stringify(text, null, 2);
        state.manifestLoaded = true;
    } catch (err) {
        pre.textContent = `The manifest could not be loaded: ${err.message}`;
        throw err;
    } finally {
        pre.removeAttribute('aria-busy');
    }
}

function defaultIngestUrl(answer) {
    const given = answer.ingest_url || (state.session && state.session.ingest_url);
    if (given) {
        return given;
    }
    return `https://${location.hostname}:8081`;
}

async function onConnect(event) {
    event.preventDefault();
    clearAlert();
    const form = event.currentTarget;
    const ok = checkForm(form, (input) => {
        if (input.name === 'server' && input.value && !/^https:\/\/[^\s/]+/i.test(input.value)) {
            return 'The API server URL must start with https://.';
        }
        if (input.name === 'ca_cert' && input.value
            && !input.value.includes('-----BEGIN CERTIFICATE-----')) {
            return 'The CA certificate must be PEM text (-----BEGIN CERTIFICATE-----).';
        }
        return '';
    });
    if (!ok) {
        return;
    }
    const body = {
        name: field(form, 'name').value.trim(),
        server: field(form, 'server').value.trim(),
        ca_cert: field(form, 'ca_cert').value.trim() + '\n',
        token: field(form, 'token').value.trim(),
    };
    const button = $('connect-submit');
    await withBusy(button, async () => {
        button.textContent = 'Verifying the credential…';
        try {
            const answer = await api('POST', '/clusters', body);
            form.reset();
            showConnected(body.name, answer);
        } catch (err) {
            reportError(err);
        }
    });
}

function showConnected(name, answer) {
    state.ingestToken = answer.ingest_token || '';
    $('connect-form').hidden = true;
    $('connect-done-text').textContent = `✓ ${name}: the credential is read-only, verified and `
        + 'stored encrypted.';
    $('connect-done').hidden = false;
    $('connected-text').textContent = `Cluster ${name} is connected. Vigil is now taking its `
        + 'first inventory; its status shows on the Clusters page.';
    $('ingest-token').value = state.ingestToken;
    $('ingest-url').value = defaultIngestUrl(answer);
    renderSnippets();
    const step = $('connected');
    step.hidden = false;
    step.focus();
    announce(`Cluster ${name} connected. The ingest token is shown once.`);
}

// Back to an empty form; the ingest token of the last cluster is forgotten (shown once).
function resetConnect() {
    state.ingestToken = '';
    $('ingest-token').value = '';
    for (const id of ['snippet-fluentbit', 'snippet-apiclarity']) {
        $(id).textContent = '';
    }
    $('connected').hidden = true;
    $('connect-done').hidden = true;
    $('connect-form').hidden = false;
}

function renderSnippets() {
    const target = { url: $('ingest-url').value.trim(), token: state.ingestToken };
    $('snippet-mesh').textContent = meshConfigSnippet();
    $('snippet-fluentbit').textContent = fluentBitSnippet(target);
    $('snippet-apiclarity').textContent = apiClaritySnippet(target);
}

function selectTab(tab) {
    for (const other of document.querySelectorAll('[role=tab]')) {
        const selected = other === tab;
        other.setAttribute('aria-selected', String(selected));
        other.tabIndex = selected ? 0 : -1;
        $(other.getAttribute('aria-controls')).hidden = !selected;
    }
    tab.focus();
}

function onTabKey(event) {
    const tabs = [...document.querySelectorAll('[role=tab]')];
    const index = tabs.indexOf(event.currentTarget);
    let next = null;
    if (event.key === 'ArrowRight') {
        next = tabs[(index + 1) % tabs.length];
    } else if (event.key === 'ArrowLeft') {
        next = tabs[(index - 1 + tabs.length) % tabs.length];
    } else if (event.key === 'Home') {
        next = tabs[0];
    } else if (event.key === 'End') {
        next = tabs[tabs.length - 1];
    }
    if (next) {
        event.preventDefault();
        selectTab(next);
    }
}

// ---------------------------------------------------------------------------- findings

const FINDING_STATUSES = ['open', 'resolved', 'suppressed'];

// The query of a findings page: the filters as applied for the first page (a later change
// of the form does not mix into "Load more"), plus the cursor.
function findingsQuery(more) {
    if (!more) {
        const form = $('findings-filters');
        state.findingsFilters = new URLSearchParams();
        for (const name of ['severity', 'status', 'source']) {
            if (field(form, name).value) {
                state.findingsFilters.set(name, field(form, name).value);
            }
        }
    }
    const params = new URLSearchParams(state.findingsFilters);
    if (more && state.findingsCursor) {
        params.set('cursor', state.findingsCursor);
    }
    const text = params.toString();
    return text ? `?${text}` : '';
}

function loadFindings(more) {
    return busy($('findings-card'), () => renderFindings(more));
}

async function renderFindings(more) {
    const data = await api('GET', `/findings${findingsQuery(more)}`);
    const findings = itemsOf(data, 'findings');
    const body = $('findings-table').querySelector('tbody');
    const rows = findings.map(findingRow);
    if (more) {
        body.append(...rows);
    } else {
        body.replaceChildren(...rows);
    }
    labelCells($('findings-table'));
    state.findingsCursor = nextCursorOf(data);
    $('findings-more').hidden = !state.findingsCursor;
    const count = body.children.length;
    $('findings-empty').hidden = count > 0;
    $('findings-table').hidden = count === 0;
    announce(`${count} finding${count === 1 ? '' : 's'} shown.`);
}

function objectText(object) {
    if (!object || typeof object !== 'object') {
        return '';
    }
    if (object.kind || object.name) {
        const ns = object.namespace ? `${object.namespace}/` : '';
        return `${object.kind || ''} ${ns}${object.name || ''}`.trim();
    }
    if (object.endpoint || object.host) {
        return `${object.method || ''} ${object.host || ''}${object.endpoint || ''}`.trim();
    }
    return JSON.stringify(object);
}

function findingRow(finding) {
    const id = finding.id;
    const titleBox = el('div', {},
        el('span', { class: 'cell-title', text: finding.title || finding.rule_id }),
        el('span', { class: 'cell-note mono', text: [finding.rule_id, finding.category]
            .filter(Boolean).join(' · ') }));
    if (finding.remediation) {
        titleBox.append(el('details', {}, el('summary', { text: 'Remediation' }),
            el('p', { text: finding.remediation })));
    }
    const title = el('td', {}, titleBox);
    const selectId = `finding-status-${id}`;
    const select = el('select', { id: selectId, class: 'select-small' },
        ...FINDING_STATUSES.map((s) => el('option', { value: s, text: s,
            selected: s === finding.status })));
    const apply = el('button', { type: 'button', class: 'btn btn-small', text: 'Set' });
    apply.setAttribute('aria-label', `Set the status of finding ${finding.title || id}`);
    apply.addEventListener('click', () => patchFinding(id, select, apply));
    return el('tr', {},
        el('td', {}, badge(finding.severity || 'info')),
        title,
        el('td', { class: 'mono', text: objectText(finding.object) }),
        el('td', { text: finding.source || '' }),
        el('td', { text: formatTime(finding.last_seen || finding.first_seen) }),
        el('td', { class: 'actions' },
            el('label', { class: 'visually-hidden', for: selectId,
                text: `Status of ${finding.title || id}` }),
            select, apply));
}

async function patchFinding(id, select, button) {
    clearAlert();
    await withBusy(button, async () => {
        try {
            await api('PATCH', `/findings/${encodeURIComponent(id)}`, { status: select.value });
            showOk(`The finding is now ${select.value}.`);
        } catch (err) {
            reportError(err);
        }
    });
}

// ---------------------------------------------------------------------------- APIs

function loadApis(more) {
    return busy($('apis-card'), () => renderApis(more));
}

async function renderApis(more) {
    const params = new URLSearchParams();
    const cls = field($('apis-filters'), 'class').value;
    if (cls) {
        params.set('class', cls);
    }
    if (more && state.apisCursor) {
        params.set('cursor', state.apisCursor);
    }
    const query = params.toString() ? `?${params}` : '';
    const data = await api('GET', `/apis${query}`);
    const apis = itemsOf(data, 'apis');
    const body = $('apis-table').querySelector('tbody');
    const rows = apis.map(apiRow);
    if (more) {
        body.append(...rows);
    } else {
        body.replaceChildren(...rows);
    }
    labelCells($('apis-table'));
    state.apisCursor = nextCursorOf(data);
    $('apis-more').hidden = !state.apisCursor;
    const count = body.children.length;
    $('apis-empty').hidden = count > 0;
    $('apis-table').hidden = count === 0;
}

function apiFlags(endpoint) {
    const flags = [];
    if (endpoint.shadow) {
        flags.push(badge('shadow', 'high'));
    }
    if (endpoint.zombie) {
        flags.push(badge('zombie', 'medium'));
    }
    const sensitive = endpoint.sensitive;
    if (Array.isArray(sensitive) ? sensitive.length > 0 : Boolean(sensitive)) {
        const kinds = Array.isArray(sensitive)
            ? [...new Set(sensitive.map((s) => (s && s.kind) || s))].join(', ') : '';
        flags.push(badge(kinds ? `sensitive: ${kinds}` : 'sensitive', 'critical'));
    }
    return flags.length ? flags : ['–'];
}

function apiRow(endpoint) {
    const method = endpoint.method || '';
    return el('tr', {},
        el('td', {}, el('span', { class: `method method-${method.toLowerCase()}`, text: method })),
        el('th', { scope: 'row', class: 'mono', text: endpoint.path_template || endpoint.path }),
        el('td', { class: 'mono', text: endpoint.service || endpoint.host || '' }),
        el('td', {}, badge(endpoint.class || 'unknown', 'neutral')),
        el('td', { text: endpoint.auth || 'unknown' }),
        el('td', {}, el('div', { class: 'flags' }, ...apiFlags(endpoint))),
        el('td', { class: 'num', text: endpoint.request_count ?? '–' }),
        el('td', {}, endpoint.id ? el('a', {
            href: `/api/v1/apis/${encodeURIComponent(endpoint.id)}/openapi.json`,
            download: `${(endpoint.service || 'api').replace(/[^\w.-]+/g, '_')}.openapi.json`,
            'aria-label': `OpenAPI document of ${method} ${endpoint.path_template}`,
            text: 'OpenAPI',
        }) : '–'));
}

// ---------------------------------------------------------------------------- usage

async function loadUsage() {
    const usage = await api('GET', '/usage');
    const used = Number(usage.controlled_workloads) || 0;
    const limit = usage.workload_limit;
    const clusters = Array.isArray(usage.clusters) ? usage.clusters.length : usage.clusters;
    $('usage-plan').textContent = usage.plan || '–';
    $('usage-workloads').textContent = String(used);
    $('usage-limit').textContent = limit === null || limit === undefined ? 'unlimited'
        : String(limit);
    $('usage-clusters').textContent = clusters === undefined ? '–' : String(clusters);
    const count = (value) => (value === undefined || value === null ? '–' : String(value));
    $('usage-apis').textContent = count(usage.apis);
    $('usage-findings').textContent = count(usage.open_findings);
    const meter = $('usage-meter');
    meter.max = limit ? Number(limit) : Math.max(used, 1);
    meter.low = meter.max * 0.75;
    meter.high = meter.max * 0.9;
    meter.value = used;
    const uncontrolled = Number(usage.uncontrolled_workloads) || 0;
    let note = limit ? `${Math.max(limit - used, 0)} more workload${limit - used === 1 ? '' : 's'}`
        + ' can be analysed on this plan.' : 'Your plan has no workload limit.';
    if (uncontrolled > 0) {
        note = `${uncontrolled} workload${uncontrolled === 1 ? ' is' : 's are'} over the plan `
            + 'limit: listed but not analysed, and their traffic is dropped.';
    }
    $('usage-note').textContent = note;
    $('usage-note').classList.toggle('warn', uncontrolled > 0);
}

// ---------------------------------------------------------------------------- wiring

function wire() {
    wireNotifications(reportError);
    wireSpecs(reportError);
    wireFuzz(reportError);
    $('signup-form').addEventListener('submit', onSignup);
    $('login-form').addEventListener('submit', onLogin);
    $('connect-form').addEventListener('submit', onConnect);
    $('logout').addEventListener('click', onLogout);
    $('alert-close').addEventListener('click', clearAlert);
    $('ingest-url').addEventListener('input', renderSnippets);
    $('connect-again').addEventListener('click', () => {
        resetConnect();
        clearAlert();
        $('cluster-name').focus();
    });
    $('findings-filters').addEventListener('submit', (event) => {
        event.preventDefault();
        clearAlert();
        loadFindings(false).catch(reportError);
    });
    $('findings-more').addEventListener('click', () => loadFindings(true).catch(reportError));
    $('apis-filters').addEventListener('submit', (event) => {
        event.preventDefault();
        clearAlert();
        loadApis(false).catch(reportError);
    });
    $('apis-more').addEventListener('click', () => loadApis(true).catch(reportError));
    for (const tab of document.querySelectorAll('[role=tab]')) {
        tab.addEventListener('click', () => selectTab(tab));
        tab.addEventListener('keydown', onTabKey);
    }
    for (const button of document.querySelectorAll('[data-copy]')) {
        button.addEventListener('click', () => copyFrom(button.dataset.copy, button));
    }
    window.addEventListener('hashchange', () => {
        clearAlert();
        route();
    });
}

async function start() {
    wire();
    setCsrfRefresh(loadSession);
    try {
        await loadSession();
    } catch (err) {
        setSession(null);
        showError(err.message);
    }
    $('view-loading').removeAttribute('aria-busy');
    await route();
}

start();
