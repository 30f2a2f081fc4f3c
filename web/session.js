// The signed-in account of the monitoring unit: a user name and password kept in this page's
// memory only (not in localStorage, sessionStorage or a cookie; gone with the page), sent as
// HTTP Basic on writes and on the OPTIONS requests that ask the server what this user may do.
// The server decides: its `Allow` header says which methods the account may use.
import { request } from "./api.js";

/** `Basic base64(user:password)`, the pair encoded as UTF-8 (RFC 7617, charset="UTF-8"). */
export function basicAuthorization(user, password) {
  let binary = "";
  for (const b of new TextEncoder().encode(`${user}:${password}`)) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/** The methods an answer's `Allow` header lists, upper case. */
export function allowedMethods(response) {
  return new Set(
    (response.headers.get("allow") || "")
      .split(",")
      .map((m) => m.trim().toUpperCase())
      .filter(Boolean),
  );
}

export class Session {
  /** `collection`: the layer whose items endpoint checks the credentials (the projects). */
  constructor({ api, collection }) {
    this.api = api;
    this.collection = collection;
    this.user = null;
    this.authorization = null;
    this.mayCreate = false;
    this.listeners = new Set();
  }

  get signedIn() {
    return Boolean(this.authorization);
  }

  /** Calls `fn(session)` on every sign-in and sign-out. */
  onChange(fn) {
    this.listeners.add(fn);
  }

  changed() {
    for (const fn of this.listeners) fn(this);
  }

  /**
   * fetch() with the account's credentials when signed in (see api.js `request` for failures).
   * `credentials: "omit"`: no cookie, and no credentials the browser itself may have stored
   * for this site; the only ones sent are this page's.
   */
  request(url, options = {}) {
    const headers = { ...(options.headers || {}) };
    if (this.authorization) headers.Authorization = this.authorization;
    return request(url, { cache: "no-store", ...options, headers, credentials: "omit" });
  }

  /** The methods this account may use on `url`: the `Allow` of an OPTIONS request. */
  async methods(url) {
    return allowedMethods(await this.request(url, { method: "OPTIONS" }));
  }

  /**
   * Checks the credentials with `OPTIONS /collections/{projects}/items` and keeps them when
   * the server takes them; throws the server's problem (401 with its detail) when it does not.
   */
  async signIn(user, password) {
    const authorization = basicAuthorization(user, password);
    const url = `${this.api}/collections/${encodeURIComponent(this.collection)}/items`;
    const response = await request(url, {
      method: "OPTIONS",
      headers: { Authorization: authorization },
      credentials: "omit",
      cache: "no-store",
    });
    this.user = user;
    this.authorization = authorization;
    this.mayCreate = allowedMethods(response).has("POST");
    this.changed();
  }

  signOut() {
    this.user = null;
    this.authorization = null;
    this.mayCreate = false;
    this.changed();
  }
}

/**
 * The sign-in control of the header: a button opening a small form (user name, password),
 * then "Signed in as NAME" and a Sign out button. The password field is emptied once used.
 */
export class AccountControl {
  constructor({ session, root, layerTitle }) {
    this.session = session;
    this.layerTitle = layerTitle;
    this.root = root;
    this.button = root.querySelector("#account-button");
    this.form = root.querySelector("#account-panel");
    this.userInput = root.querySelector("#sign-in-user");
    this.passwordInput = root.querySelector("#sign-in-password");
    this.message = root.querySelector("#sign-in-message");
    this.signedIn = root.querySelector("#account-user");
    this.signOutButton = root.querySelector("#sign-out");
    this.submit = this.form.querySelector('button[type="submit"]');

    this.button.addEventListener("click", () => this.toggle(this.form.hidden));
    this.form.querySelector("#sign-in-cancel").addEventListener("click", () => this.toggle(false));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.signIn();
    });
    root.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !this.form.hidden) this.toggle(false);
    });
    this.signOutButton.addEventListener("click", () => {
      session.signOut();
      this.button.focus();
    });
    session.onChange(() => this.render());
    root.hidden = false;
    this.render();
  }

  toggle(open) {
    this.form.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) {
      this.message.textContent = "";
      this.userInput.focus();
    } else {
      this.passwordInput.value = "";
      if (!this.session.signedIn) this.button.focus();
    }
  }

  async signIn() {
    const user = this.userInput.value.trim();
    const password = this.passwordInput.value;
    if (!user || !password) {
      this.message.textContent = "Give a user name and a password.";
      return;
    }
    this.submit.disabled = true;
    this.message.textContent = "Signing in…";
    try {
      await this.session.signIn(user, password);
      this.passwordInput.value = "";
      this.toggle(false);
      this.signOutButton.focus();
    } catch (e) {
      // The server's own words: "wrong user name or password", too many attempts...
      this.message.textContent = e.detail || e.message;
      this.passwordInput.select();
    } finally {
      this.submit.disabled = false;
    }
  }

  render() {
    const s = this.session;
    this.button.hidden = s.signedIn;
    this.signedIn.hidden = !s.signedIn;
    this.signOutButton.hidden = !s.signedIn;
    if (s.signedIn) {
      this.form.hidden = true;
      this.signedIn.textContent = `Signed in as ${s.user}${s.mayCreate ? "" : " (read only)"}`;
      this.signedIn.title = s.mayCreate
        ? `${s.user} may edit ${this.layerTitle}`
        : `${s.user} may not edit ${this.layerTitle} on this server`;
      this.signedIn.dataset.mayEdit = String(s.mayCreate);
    }
  }
}
