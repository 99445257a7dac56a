// Legacy Gallery: the deprecated implicit flow (RFC 6749 §4.2), shown to explain why
// RFC 9700 §2.1.2 says not to use it. The access token arrives in the URL fragment.
"use strict";

const cfg = document.getElementById("app").dataset;
const $ = (id) => document.getElementById(id);

function fail(text) {
  $("error").textContent = text;
  $("error").hidden = false;
}

function login() {
  const state = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(12))))
    .replace(/[+/=]/g, "");
  sessionStorage.setItem("oauth-sim-implicit-state", state);
  const url = new URL(cfg.issuer + "/authorize");
  url.search = new URLSearchParams({
    response_type: "token",
    client_id: cfg.clientId,
    redirect_uri: cfg.redirectUri,
    scope: cfg.scope,
    state,
  });
  location.assign(url.toString());
}

// Check first, then act: a fragment this page did not ask for is refused before anything in
// it is believed, an error included. Without a stored state, any page could hand this one a
// token (access token injection, RFC 9700 §4.6) or a login (CSRF, RFC 9700 §4.7); with a
// wrong `iss` it came from another server (RFC 9207 §2.4: "clients MUST reject the
// authorization response and MUST NOT proceed with the authorization grant").
function refusal(params) {
  const expected = sessionStorage.getItem("oauth-sim-implicit-state");
  sessionStorage.removeItem("oauth-sim-implicit-state");
  if (!expected || params.get("state") !== expected) {
    return "Refused: this page started no login with this state (RFC 9700 §4.6, §4.7).";
  }
  if (params.get("iss") !== cfg.issuer) {
    return `Refused: unexpected issuer ${params.get("iss")} (RFC 9207 §2.4).`;
  }
  return null;
}

async function arrived(fragment) {
  const params = new URLSearchParams(fragment);
  const refused = refusal(params);
  if (refused) return fail(refused);
  if (params.get("error")) return fail(`The authorization server answered ${params.get("error")}.`);
  $("start").hidden = true;
  $("arrived").hidden = false;
  $("fragment").textContent = "#" + fragment;
  $("server-saw").textContent = "GET " + location.pathname + location.search;
  $("refresh-note").textContent = params.get("refresh_token")
    ? "a refresh token (it should never be!)"
    : "no refresh token";
  const response = await fetch(cfg.api + "/api/profile", {
    headers: { Authorization: "Bearer " + params.get("access_token") },
  });
  const body = await response.json();
  $("api").textContent =
    response.status === 200
      ? `And it works: the API says this is ${body.name}. So would it for anyone who copied it.`
      : `The API answered ${response.status} ${body.error || ""}.`;
}

$("login").addEventListener("click", login);
const fragment = location.hash.slice(1);
if (fragment) arrived(fragment).catch((e) => fail(String(e)));
