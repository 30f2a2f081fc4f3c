// The monitoring section of a project's panel: its status, progress and amounts as stored
// (GET /collections/{projects}/items/{id}, with its ETag), an editor for the monitoring unit
// when the signed-in account may PATCH the project (OPTIONS on the item, its Allow), and the
// project's history (GET .../items/{id}/history).
//
// Save sends only the changed properties as a JSON merge patch with If-Match: the ETag the
// panel read the project with. 412: someone else changed it since; the panel reads it again
// and shows the current values. 422: each of the server's invalid-params beside its field.
// Labels, choices and limits come from the collection's schema (/collections/{id}/schema).
import { request } from "./api.js";
import { el } from "./details.js";
import { showError } from "./messages.js";

const GEOJSON = "application/geo+json";

/** A stored value as shown: amounts in euros, progress in %, statuses without underscores. */
export function formatValue(value, { unit } = {}) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") {
    if (unit === "EUR") return `€ ${value.toLocaleString("en-US", { maximumFractionDigits: 2 })}`;
    if (unit === "%") return `${value.toLocaleString("en-US", { maximumFractionDigits: 2 })}%`;
    return value.toLocaleString("en-US", { maximumFractionDigits: 6 });
  }
  return String(value).replaceAll("_", " ");
}

/** "2026-11-27 08:00 UTC" from an RFC 3339 time. */
export function formatTime(at) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function unitOf(name) {
  if (/_eur$/.test(name)) return "EUR";
  if (/_pct$/.test(name)) return "%";
  return undefined;
}

export class ProjectMonitor {
  /**
   * @param options { api, collection, session, edits: whether the server takes edits (its
   *   /conformance lists Part 4), fields: { status, progress, committed, spent, budget },
   *   onSaved(id): after a change is stored (the map refreshes the layer) }
   */
  constructor({ api, collection, session, edits, fields, onSaved }) {
    this.api = api;
    this.edits = Boolean(edits);
    this.collection = collection;
    this.session = session;
    this.editable = [fields.status, fields.progress, fields.committed, fields.spent].filter(Boolean);
    this.shown = [fields.status, fields.progress, fields.budget, fields.committed, fields.spent].filter(Boolean);
    this.onSaved = onSaved || (() => {});
    this.schemaPromise = null;
    this.view = null;
    session.onChange(() => {
      if (this.view && this.view.section.isConnected) this.renderState(this.view);
    });
  }

  itemUrl(id) {
    return `${this.api}/collections/${encodeURIComponent(this.collection)}/items/${encodeURIComponent(id)}`;
  }

  /** The collection's schema (Part 5), read once. */
  schema() {
    if (!this.schemaPromise) {
      const url = `${this.api}/collections/${encodeURIComponent(this.collection)}/schema`;
      this.schemaPromise = request(url, { headers: { Accept: "application/schema+json, application/json" } })
        .then((r) => r.json())
        .catch((e) => {
          this.schemaPromise = null;
          throw e;
        });
    }
    return this.schemaPromise;
  }

  property(name) {
    return (this.view && this.view.schema.properties && this.view.schema.properties[name]) || {};
  }

  label(name) {
    return this.property(name).title || name.replaceAll("_", " ");
  }

  /** The project as stored now, and its ETag (strong when the server takes edits). */
  async read(id) {
    const response = await request(this.itemUrl(id), { headers: { Accept: GEOJSON }, cache: "no-cache" });
    return { feature: await response.json(), etag: response.headers.get("etag") };
  }

  /** The monitoring section of project `id`: returned at once, filled as the answers come. */
  section(id) {
    const section = el("section", { className: "monitoring", dataset: { project: id }, "aria-labelledby": "monitoring-title" });
    const view = { id, section, feature: null, etag: null, schema: null, methods: new Set(), ticket: 0 };
    this.view = view;
    section.append(el("h3", { id: "monitoring-title" }, "Monitoring"), el("p", { className: "muted" }, "Loading the project's monitoring…"));
    this.load(view);
    return section;
  }

  /** Reads the project (and its schema) again, then the controls and the history. */
  async load(view, { note } = {}) {
    const mine = ++view.ticket;
    try {
      const [schema, { feature, etag }] = await Promise.all([this.schema(), this.read(view.id)]);
      if (mine !== view.ticket) return;
      Object.assign(view, { schema, feature, etag });
      await this.renderState(view, { note });
      if (mine !== view.ticket) return;
      await this.loadHistory(view);
    } catch (e) {
      if (mine !== view.ticket) return;
      view.section.replaceChildren(el("h3", {}, "Monitoring"), el("p", { className: "muted" }, `The monitoring of ${view.id} could not be loaded.`));
      showError(e, `Reading project ${view.id}`);
    }
  }

  /** The values, or the editor when this account may change the project. */
  async renderState(view, { note } = {}) {
    if (!view.feature) return;
    view.methods = new Set();
    if (this.edits && this.session.signedIn) {
      try {
        view.methods = await this.session.methods(this.itemUrl(view.id));
      } catch (e) {
        // Credentials no longer taken (password changed, account removed): say so, read only.
        view.methods = new Set();
        note = { text: `Your account cannot edit: ${e.detail || e.message}`, kind: "error" };
      }
    }
    const body = el("div", { className: "monitoring-body" });
    if (view.methods.has("PATCH")) {
      body.append(this.editor(view));
    } else {
      body.append(this.valuesList(view));
      let why = null;
      if (!this.edits) why = "This server takes no edits of the projects.";
      else if (!this.session.signedIn) why = "Sign in to edit the monitoring of this project.";
      else if (!note) why = `${this.session.user} may not edit this project.`;
      if (why) body.append(el("p", { className: "muted edit-note" }, why));
      body.append(el("div", { className: "form-actions" }, this.reloadButton(view)));
    }
    if (note) {
      const status = body.querySelector(".edit-status") || body.appendChild(el("div", { className: "edit-status", role: "status" }));
      status.textContent = note.text;
      status.className = `edit-status ${note.kind || ""}`;
      if (note.details) status.append(note.details);
    }
    const history = view.section.querySelector(".history-block");
    view.section.replaceChildren(el("h3", { id: "monitoring-title" }, "Monitoring"), body);
    if (history) view.section.append(history);
  }

  valuesList(view) {
    const p = view.feature.properties || {};
    return el(
      "dl",
      { className: "values" },
      this.shown.map((name) => [
        el("dt", {}, this.label(name)),
        el("dd", { dataset: { field: name, value: JSON.stringify(p[name] ?? null) } }, formatValue(p[name], { unit: unitOf(name) })),
      ]),
    );
  }

  /** The form: a select for enumerated fields, a number for the others; Save and Reload. */
  editor(view) {
    const p = view.feature.properties || {};
    const form = el("form", { className: "project-edit", novalidate: true, "aria-label": `monitoring of ${view.id}` });
    for (const name of this.shown) {
      const prop = this.property(name);
      const id = `edit-${name}`;
      const error = el("span", { className: "field-error", id: `${id}-error` });
      let input;
      if (!this.editable.includes(name) || prop.readOnly) {
        form.append(el("div", { className: "field readonly", dataset: { field: name } },
          el("span", { className: "label" }, this.label(name)),
          el("span", { className: "value", dataset: { value: JSON.stringify(p[name] ?? null) } }, formatValue(p[name], { unit: unitOf(name) }))));
        continue;
      }
      if (Array.isArray(prop.enum)) {
        input = el("select", { id, name, "aria-describedby": error.id });
        const choices = prop.enum.filter((v) => v !== null);
        if (p[name] !== null && p[name] !== undefined && !choices.includes(p[name])) choices.push(p[name]);
        if (p[name] === null || p[name] === undefined) input.append(el("option", { value: "" }, "—"));
        for (const v of choices) input.append(el("option", { value: String(v) }, formatValue(v)));
        input.value = p[name] === null || p[name] === undefined ? "" : String(p[name]);
      } else {
        // The schema's limits are shown to the browser (spinner, hints) but not enforced here
        // (novalidate): the server checks every rule and says what is wrong.
        input = el("input", {
          id,
          name,
          type: "number",
          inputmode: "decimal",
          min: prop.minimum,
          max: prop.maximum,
          step: prop.type === "integer" ? "1" : "any",
          "aria-describedby": error.id,
        });
        input.value = p[name] === null || p[name] === undefined ? "" : String(p[name]);
      }
      input.dataset.field = name;
      const range = [prop.minimum !== undefined ? `≥ ${prop.minimum}` : null, prop.maximum !== undefined ? `≤ ${prop.maximum}` : null].filter(Boolean).join(", ");
      form.append(el("div", { className: "field", dataset: { field: name } },
        el("label", { for: id, title: prop.description || null }, this.label(name)),
        input,
        range ? el("span", { className: "hint" }, range) : null,
        error));
    }
    const save = el("button", { type: "submit", className: "save" }, "Save");
    form.append(
      el("div", { className: "form-actions" }, save, this.reloadButton(view)),
      el("div", { className: "edit-status", role: "status", "aria-live": "polite" }),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save(view, form);
    });
    return form;
  }

  reloadButton(view) {
    const reload = el("button", { type: "button", className: "reload", title: "Read the project and its history again from the server" }, "Reload");
    reload.addEventListener("click", () => this.load(view));
    return reload;
  }

  /** What the form holds, typed as the schema says: null when empty. */
  formValue(form, name) {
    const input = form.elements.namedItem(name);
    if (input.value === "") return null;
    const prop = this.property(name);
    if (prop.type === "integer" || prop.type === "number") {
      const n = Number(input.value);
      return Number.isFinite(n) ? n : input.value;
    }
    return input.value;
  }

  async save(view, form) {
    const status = form.querySelector(".edit-status");
    for (const e of form.querySelectorAll(".field-error")) e.textContent = "";
    for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
    status.className = "edit-status";
    const before = view.feature.properties || {};
    const changes = {};
    for (const name of this.editable) {
      if (!form.elements.namedItem(name)) continue;
      const v = this.formValue(form, name);
      if (v !== (before[name] ?? null)) changes[name] = v;
    }
    if (!Object.keys(changes).length) {
      status.textContent = "Nothing to save: these are the stored values.";
      return;
    }
    const mine = ++view.ticket;
    const buttons = form.querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    status.textContent = "Saving…";
    try {
      const response = await this.session.request(this.itemUrl(view.id), {
        method: "PATCH",
        headers: { Accept: GEOJSON, "Content-Type": "application/merge-patch+json", ...(view.etag ? { "If-Match": view.etag } : {}) },
        body: JSON.stringify({ properties: changes }),
      });
      const feature = await response.json();
      if (mine !== view.ticket) return;
      view.feature = feature;
      view.etag = response.headers.get("etag");
      const saved = Object.entries(changes).map(([k, v]) => `${this.label(k)}: ${formatValue(v, { unit: unitOf(k) })}`).join("; ");
      this.onSaved(view.id);
      await this.renderState(view, { note: { text: `Saved. ${saved}.`, kind: "ok" } });
      await this.loadHistory(view);
    } catch (e) {
      if (mine !== view.ticket) return;
      for (const b of buttons) b.disabled = false;
      if (e.status === 412) await this.conflict(view, changes);
      else if (e.status === 422) this.invalid(form, status, e);
      else {
        status.className = "edit-status error";
        status.textContent = e.status ? `Not saved (${e.status} ${e.title}): ${e.detail || ""}` : `Not saved: ${e.detail || e.message}`;
        if (!e.status || e.status >= 500) showError(e, `Saving project ${view.id}`);
      }
    }
  }

  /** 412: the project changed since it was read. Read it again and show its values now. */
  async conflict(view, changes) {
    const mine = ++view.ticket;
    try {
      const { feature, etag } = await this.read(view.id);
      if (mine !== view.ticket) return;
      Object.assign(view, { feature, etag });
      const now = feature.properties || {};
      const details = el(
        "ul",
        { className: "conflict-values" },
        Object.entries(changes).map(([k, v]) =>
          el("li", { dataset: { field: k } }, `${this.label(k)}: now ${formatValue(now[k], { unit: unitOf(k) })} (yours: ${formatValue(v, { unit: unitOf(k) })})`)),
      );
      this.onSaved(view.id);
      await this.renderState(view, {
        note: {
          text: "Changed by someone else since you opened it: the form now shows the current values. Redo your change and save again.",
          kind: "conflict",
          details,
        },
      });
      await this.loadHistory(view);
    } catch (e) {
      showError(e, `Reading project ${view.id} again`);
    }
  }

  /** 422: each reason beside its field; reasons for other fields, and the detail, below. */
  invalid(form, status, e) {
    const params = (e.problem && e.problem["invalid-params"]) || [];
    const elsewhere = [];
    for (const p of params) {
      const input = form.elements.namedItem(p.name);
      const slot = form.querySelector(`.field[data-field="${CSS.escape(p.name)}"] .field-error`);
      if (input && slot) {
        slot.textContent = p.reason;
        input.setAttribute("aria-invalid", "true");
      } else {
        elsewhere.push(`${p.name}: ${p.reason}`);
      }
    }
    status.className = "edit-status error";
    status.textContent = params.length
      ? `Not saved: the server refused ${params.length === 1 ? "a value" : "some values"}.${elsewhere.length ? ` ${elsewhere.join("; ")}.` : ""}`
      : `Not saved: ${e.detail || e.title}`;
    const first = form.querySelector("[aria-invalid]");
    if (first) first.focus();
  }

  /** The history: newest change first, who and when, each field as before → after. */
  async loadHistory(view) {
    if (!this.edits) return; // no edits on this server: no history either
    const url = `${this.itemUrl(view.id)}/history?f=json`;
    const block = el("div", { className: "history-block" }, el("h3", {}, "History"));
    try {
      const doc = await (await request(url, { headers: { Accept: "application/json" }, cache: "no-cache" })).json();
      if (!view.section.isConnected && this.view !== view) return;
      block.append(this.historyList(doc));
    } catch (e) {
      block.append(el("p", { className: "muted" }, `The history could not be read: ${e.detail || e.message}`));
    }
    const old = view.section.querySelector(".history-block");
    if (old) old.replaceWith(block);
    else view.section.append(block);
  }

  historyList(doc) {
    const changes = [...(doc.changes || [])].reverse();
    if (!changes.length) return el("p", { className: "muted" }, "No change recorded.");
    const monitored = new Set(this.shown);
    const list = el("ol", { className: "history", "aria-label": "changes, newest first" });
    for (const c of changes) {
      const before = (c.before && c.before.properties) || {};
      const after = (c.after && c.after.properties) || {};
      // A creation lists the monitoring values it started with; an update every field it changed.
      const fields = c.operation === "create" ? (c.changed || []).filter((f) => monitored.has(f)) : c.operation === "delete" ? [] : c.changed || [];
      const rows = fields.map((f) =>
        el(
          "li",
          { dataset: { field: f, before: JSON.stringify(before[f] ?? null), after: JSON.stringify(after[f] ?? null) } },
          el("span", { className: "field-name" }, this.label(f)),
          ": ",
          c.operation === "create" ? "" : [el("span", { className: "before" }, formatValue(before[f], { unit: unitOf(f) })), " → "],
          el("span", { className: "after" }, formatValue(after[f], { unit: unitOf(f) })),
        ));
      if (c.geometryChanged && c.operation !== "create" && c.operation !== "delete") rows.push(el("li", { dataset: { field: "geometry" } }, "geometry changed"));
      const what = { create: "created", update: "updated", replace: "replaced", delete: "deleted" }[c.operation] || c.operation;
      list.append(
        el(
          "li",
          { dataset: { seq: c.seq, user: c.user, operation: c.operation, at: c.at } },
          el("div", { className: "when" }, el("time", { datetime: c.at }, formatTime(c.at)), " · ", el("span", { className: "who" }, c.user), " · ", what),
          rows.length ? el("ul", { className: "changes" }, rows) : null,
        ),
      );
    }
    return list;
  }
}
