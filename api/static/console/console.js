// Frikort-konsol: the little behaviour the pages need (no inline scripts are allowed).
//  - forms with data-confirm="Text" ask before they are sent;
//  - Console.fetchJson(url) / Console.post(url, data) send the CSRF token and mark the
//    request as a fetch, so an expired session answers 401 (then we go to the login page);
//  - Console.poll(url, seconds, callback) calls callback(json) every few seconds.
"use strict";
(function () {
  const token = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
  const headers = (extra) => Object.assign(
    {"Accept": "application/json", "X-Requested-With": "console", "X-CSRF-Token": token()},
    extra || {});

  async function check(response) {
    if (response.status === 401) {
      window.location.assign("/console/login?next=" +
        encodeURIComponent(window.location.pathname + window.location.search));
      throw new Error("login required");
    }
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  const Console = {
    fetchJson: (url) => fetch(url, {headers: headers(), credentials: "same-origin"}).then(check),
    post: (url, data) => fetch(url, {method: "POST", credentials: "same-origin",
      headers: headers({"Content-Type": "application/json"}), body: JSON.stringify(data || {})})
      .then(check),
    poll(url, seconds, callback) {
      let stopped = false;
      const tick = async () => {
        if (stopped) return;
        try { callback(await Console.fetchJson(typeof url === "function" ? url() : url)); }
        catch (error) { if (String(error).includes("login")) stopped = true; }
        if (!stopped) setTimeout(tick, seconds * 1000);
      };
      setTimeout(tick, seconds * 1000);
      return () => { stopped = true; };
    },
  };
  window.Console = Console;

  document.addEventListener("submit", (event) => {
    const question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();

// --- Indbakke (console-inbox-applications) -------------------------------------------------
// The inbox list (#inbox-rows) and an open conversation (#transcript) refresh themselves:
// they poll the URL in data-poll-url for server-rendered, escaped HTML. Without JS a reload
// shows the same.
(function () {
  const C = window.Console;
  if (!C) return;
  const every = (el, fallback) => Number(el.dataset.pollSeconds) || fallback;

  const rows = document.getElementById("inbox-rows");
  if (rows && rows.dataset.pollUrl) {
    C.poll(rows.dataset.pollUrl, every(rows, 10), (data) => {
      rows.innerHTML = data.html;
      document.querySelectorAll("[data-inbox-count]").forEach((el) => {
        el.textContent = String(data.count);
      });
    });
  }

  const transcript = document.getElementById("transcript");
  if (transcript && transcript.dataset.pollUrl) {
    const url = () => transcript.dataset.pollUrl + "?after=" +
      encodeURIComponent(transcript.dataset.after || "0");
    C.poll(url, every(transcript, 5), (data) => {
      if (data.count > 0) {
        document.getElementById("transcript-empty")?.remove();
        transcript.insertAdjacentHTML("beforeend", data.html);
      }
      transcript.dataset.after = String(data.last_message_id);
      for (const [id, delivery] of Object.entries(data.deliveries)) {
        const badge = transcript.querySelector('[data-delivery-for="' + id + '"]');
        if (badge) {
          badge.textContent = delivery.label;
          badge.className = ("badge " + delivery.badge).trim();
        }
      }
      document.querySelectorAll("[data-escalation-status]").forEach((el) => {
        el.textContent = data.status_label;
      });
    });
  }
})();

// --- Opgaver (issue 6) ------------------------------------------------------------------------
// A button with data-print prints the page (the notice-board page of open tasks).
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-print]");
  if (button) window.print();
});
