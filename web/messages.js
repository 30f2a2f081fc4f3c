// Failures shown to the user, with the server's problem message: never swallowed.
import { ApiProblem } from "./api.js";

const MAX_SHOWN = 4;

/** Shows a failure; `what` says what the page was doing ("loading Strade"). */
export function showError(error, what) {
  if (error && error.name === "AbortError") return; // superseded by a newer request
  console.warn(what, error);
  const box = document.getElementById("messages");
  const item = document.createElement("div");
  item.className = "message";
  const head = document.createElement("strong");
  const body = document.createElement("span");
  const where = document.createElement("span");
  where.className = "where";
  if (error instanceof ApiProblem) {
    head.textContent = error.status
      ? `${what} failed (${error.status} ${error.title})`
      : `${what} failed (${error.title})`;
    body.textContent = error.detail ? `: ${error.detail}` : "";
    if (error.url) {
      const u = new URL(error.url, document.baseURI);
      let text = u.pathname + u.search;
      try {
        text = decodeURIComponent(text);
      } catch {
        // Not valid percent-encoding: shown as sent.
      }
      where.textContent = text;
    }
  } else {
    head.textContent = `${what} failed`;
    body.textContent = `: ${error && error.message ? error.message : String(error)}`;
  }
  const close = document.createElement("button");
  close.type = "button";
  close.className = "close";
  close.setAttribute("aria-label", "dismiss");
  close.textContent = "×";
  close.addEventListener("click", () => item.remove());
  item.append(head, body, where, close);
  box.append(item);
  while (box.children.length > MAX_SHOWN) box.firstElementChild.remove();
}

/** Runs `task`, showing its failure (if any) as `what`; returns its value or undefined. */
export async function reporting(what, task) {
  try {
    return await task();
  } catch (e) {
    showError(e, what);
    return undefined;
  }
}
