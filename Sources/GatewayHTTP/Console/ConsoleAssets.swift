/// The console's script and stylesheet, compiled into the binary so the console works with no internet access and
/// no files beside the gateway. Plain CSS and JavaScript, no framework.
///
/// The script writes every text with `textContent` (never `innerHTML`), so nothing from the database is parsed as
/// HTML; it sends the CSRF token of the page's `<meta name="csrf-token">` as `X-CSRF-Token` with every write.
enum ConsoleAssets {
    /// `GET /console/assets/console.css`.
    static let stylesheet = #"""
        :root { --p0: #c40000; --p1: #e06a00; --p2: #b89600; --p3: #4a6a8a; --late: #c40000; --ink: #111; --mute: #555;
          --line: #ccc; --bg: #f4f4f4; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.4 "DejaVu Sans", system-ui, sans-serif; color: var(--ink); background: var(--bg); }
        header.top { display: flex; align-items: center; gap: 24px; padding: 8px 16px; background: #1d2733; color: #fff; }
        header.top a { color: #fff; text-decoration: none; margin-right: 16px; font-weight: 600; }
        header.top .brand { font-size: 20px; }
        header.top nav { flex: 1; }
        header.top .signout { display: flex; align-items: center; gap: 12px; }
        header.top button { font-size: 14px; }
        main { padding: 12px 16px; }
        h1 { font-size: 24px; margin: 4px 0 12px; }
        h2 { font-size: 19px; margin: 18px 0 6px; }
        h3 { font-size: 16px; margin: 14px 0 4px; }
        button { font: inherit; padding: 6px 14px; border: 1px solid #444; border-radius: 4px; background: #fff; cursor: pointer; }
        button:hover { background: #e8e8e8; }
        .banner { margin: 8px 16px 0; padding: 10px 14px; border-radius: 4px; font-weight: 600; }
        .banner.error { background: #ffe1e1; border: 2px solid var(--late); color: #7a0000; }
        .banner.ok { background: #e2f5e2; border: 2px solid #2a7a2a; color: #164d16; }
        .toolbar { display: flex; align-items: center; gap: 24px; flex-wrap: wrap; }
        .toolbar h1 { margin: 0; }
        .filters { display: flex; gap: 14px; flex: 1; }
        .filters select { font: inherit; padding: 3px; }
        .count { color: var(--mute); font-weight: normal; }
        .live { padding: 3px 10px; border-radius: 12px; font-size: 14px; font-weight: 700; }
        .live.on { background: #2a7a2a; color: #fff; }
        .live.off { background: #888; color: #fff; }
        table.tickets { width: 100%; border-collapse: collapse; margin-top: 12px; background: #fff; }
        table.tickets th { text-align: left; font-size: 13px; color: var(--mute); padding: 6px 8px; border-bottom: 2px solid var(--line); }
        table.tickets td { padding: 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
        table.tickets tr.incident td { background: #fff0d0; font-weight: 700; border-top: 3px solid var(--p1); }
        table.tickets tr.in-incident td:first-child { border-left: 6px solid var(--p1); }
        .prio { display: inline-block; min-width: 52px; text-align: center; padding: 6px 10px; border-radius: 4px;
          font-size: 22px; font-weight: 800; color: #fff; }
        .prio-P0 .prio, .prio.P0 { background: var(--p0); }
        .prio-P1 .prio, .prio.P1 { background: var(--p1); }
        .prio-P2 .prio, .prio.P2 { background: var(--p2); }
        .prio-P3 .prio, .prio.P3 { background: var(--p3); }
        tr.prio-P0 td { background: #fff1f1; }
        .countdown { font-size: 20px; font-weight: 700; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .countdown .what { font-size: 13px; font-weight: 400; color: var(--mute); display: block; }
        .countdown.late, .late { color: var(--late); }
        .countdown.late .what { color: var(--late); }
        .countdown.big { font-size: 28px; margin-left: auto; }
        td.ticket a { font-weight: 700; font-size: 18px; }
        td.condition { font-weight: 600; }
        .empty { color: var(--mute); }
        .ticket-head { display: flex; align-items: center; gap: 18px; background: #fff; padding: 12px; border-radius: 4px; }
        .ticket-head h1 { margin: 0; }
        .ticket-head .status { font-size: 18px; padding: 4px 10px; border: 1px solid #444; border-radius: 4px; }
        .meta { margin: 8px 0; }
        .note { font-style: italic; }
        .step-buttons { display: flex; gap: 8px; flex-wrap: wrap; }
        .step-buttons button { font-size: 17px; padding: 10px 16px; }
        .step-buttons button.done { background: #e2f5e2; color: #164d16; }
        .step-buttons button.next { background: #1d4f91; color: #fff; font-weight: 700; border-color: #1d4f91; }
        .note-form { display: flex; gap: 8px; margin-top: 10px; }
        .note-form input { flex: 1; font: inherit; padding: 6px; }
        .chart img { display: block; max-width: 100%; height: auto; background: #fff; border: 1px solid var(--line); min-height: 120px; }
        table.data { border-collapse: collapse; background: #fff; }
        table.data th, table.data td { text-align: left; padding: 4px 10px; border-bottom: 1px solid var(--line); }
        .deadlines table th { text-align: left; padding-right: 16px; }
        .flags { display: flex; gap: 24px; list-style: none; padding: 0; }
        .signin { max-width: 420px; margin: 60px auto; background: #fff; padding: 24px; border-radius: 6px; }
        .signin form { display: flex; flex-direction: column; gap: 10px; }
        .signin input { font: inherit; padding: 8px; }
        .signin .error { color: var(--late); font-weight: 700; }
        .hint { color: var(--mute); font-size: 14px; }
        .period { display: flex; gap: 12px; align-items: center; }
        .period input { font: inherit; width: 30ch; padding: 3px; }
        """#

    /// `GET /console/assets/console.js`.
    static let script = #"""
        "use strict";
        (function () {
          const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
          const page = document.body.dataset.page;
          const banner = document.getElementById("banner");
          const words = (s) => String(s || "").replace(/_/g, " ");

          function say(text, ok) {
            banner.textContent = text;
            banner.className = "banner " + (ok ? "ok" : "error");
            banner.hidden = false;
          }

          async function post(path, body) {
            const response = await fetch(path, {
              method: "POST", credentials: "same-origin",
              headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
              body: JSON.stringify(body)
            });
            let json = {};
            try { json = await response.json(); } catch (e) { /* not JSON */ }
            if (!response.ok) {
              const error = json.error || {};
              throw new Error(error.message || error.code || ("HTTP " + response.status));
            }
            return json;
          }

          async function step(id, name) {
            try {
              await post("/console/tickets/" + id + "/steps", { step: name });
              say("Ticket #" + id + ": " + words(name) + " recorded.", true);
              return true;
            } catch (e) {
              say("Ticket #" + id + ": " + words(name) + " refused: " + e.message, false);
              return false;
            }
          }

          function pad(n) { return n < 10 ? "0" + n : String(n); }
          function remaining(ms) {
            const late = ms < 0;
            let s = Math.floor(Math.abs(ms) / 1000);
            const h = Math.floor(s / 3600); s -= h * 3600;
            const m = Math.floor(s / 60); s -= m * 60;
            const text = (h > 0 ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
            return late ? "−" + text + " late" : text;
          }
          function tick() {
            const now = Date.now();
            for (const el of document.querySelectorAll(".countdown[data-deadline]")) {
              const ms = Date.parse(el.dataset.deadline) - now;
              el.classList.toggle("late", ms < 0);
              el.textContent = remaining(ms);
              const what = document.createElement("span");
              what.className = "what";
              what.textContent = (ms < 0 ? "missed: " : "to ") + el.dataset.label;
              el.appendChild(what);
            }
          }
          setInterval(tick, 1000);

          // The deadline a ticket must meet next (as the gateway's TicketDeadline.isPending).
          const pendingIn = {
            acknowledge_by: ["open"],
            arrive_by: ["open", "acknowledged", "dispatched"],
            make_safe_by: ["open", "acknowledged", "dispatched", "on_site"],
            repair_by: ["open", "acknowledged", "dispatched", "on_site", "made_safe"]
          };
          const labels = { acknowledge_by: "acknowledge", arrive_by: "arrive", make_safe_by: "make safe",
            repair_by: "repair" };
          function nextDeadline(t) {
            let best = null;
            for (const key of Object.keys(pendingIn)) {
              const at = t.deadlines[key];
              if (!at || !pendingIn[key].includes(t.status)) continue;
              if (!best || Date.parse(at) < Date.parse(best.at)) best = { at: at, label: labels[key] };
            }
            return best;
          }

          function cell(tr, text, cls) {
            const td = document.createElement("td");
            if (cls) td.className = cls;
            if (text !== undefined) td.textContent = text;
            tr.appendChild(td);
            return td;
          }

          // ---- the live list ----
          let tickets = [];
          const firstSeen = new Map();
          function filtered() {
            const f = (id) => document.getElementById(id).value;
            return tickets.filter((t) =>
              (!f("filter-priority") || t.priority === f("filter-priority")) &&
              (!f("filter-district") || (t.meter.district || "") === f("filter-district")) &&
              (!f("filter-status") || t.status === f("filter-status")) &&
              (!f("filter-origin") || t.origin === f("filter-origin")));
          }
          function row(t, inIncident) {
            const tr = document.createElement("tr");
            tr.className = "prio-" + t.priority + (inIncident ? " in-incident" : "");
            tr.dataset.ticket = t.id;
            tr.dataset.priority = t.priority;
            tr.dataset.firstSeen = firstSeen.get(t.id);
            const p = cell(tr, undefined, "prio-cell");
            const badge = document.createElement("span");
            badge.className = "prio " + t.priority;
            badge.textContent = t.priority;
            p.appendChild(badge);
            const d = cell(tr, undefined);
            const next = nextDeadline(t);
            if (next) {
              const c = document.createElement("span");
              c.className = "countdown";
              c.dataset.deadline = next.at;
              c.dataset.label = next.label;
              d.appendChild(c);
            } else { d.textContent = "—"; }
            const link = document.createElement("a");
            link.href = "/console/tickets/" + t.id;
            link.textContent = "#" + t.id;
            cell(tr, undefined, "ticket").appendChild(link);
            cell(tr, words(t.condition) + (t.escalation_level > 0 ? " ⚠ escalated" : ""), "condition");
            cell(tr, t.meter.protocol + " " + t.meter.id);
            cell(tr, t.meter.district || "—");
            cell(tr, words(t.status), "status");
            cell(tr, t.origin);
            cell(tr, new Date(Date.parse(t.opened_at)).toLocaleTimeString([], { hour12: false }));
            const actions = cell(tr, undefined, "actions");
            if (t.status === "open") {
              const b = document.createElement("button");
              b.className = "ack";
              b.textContent = "Acknowledge";
              b.addEventListener("click", async () => { b.disabled = true; await step(t.id, "acknowledged"); load(); });
              actions.appendChild(b);
            }
            return tr;
          }
          function render() {
            const body = document.getElementById("ticket-rows");
            const shown = filtered();
            const rows = [];
            const incidents = new Map();
            for (const t of shown) {
              if (t.incident_id === null || t.incident_id === undefined) { rows.push({ ticket: t }); continue; }
              if (!incidents.has(t.incident_id)) {
                const group = { incident: t.incident_id, tickets: [] };
                incidents.set(t.incident_id, group);
                rows.push(group);
              }
              incidents.get(t.incident_id).tickets.push(t);
            }
            const fragment = document.createDocumentFragment();
            for (const r of rows) {
              if (r.ticket) { fragment.appendChild(row(r.ticket, false)); continue; }
              const head = document.createElement("tr");
              head.className = "incident";
              const td = cell(head, "Major incident #" + r.incident + " — " + r.tickets.length + " tickets");
              td.colSpan = 10;
              fragment.appendChild(head);
              for (const t of r.tickets) fragment.appendChild(row(t, true));
            }
            body.replaceChildren(fragment);
            document.getElementById("count").textContent = "(" + shown.length + " of " + tickets.length + ")";
            document.getElementById("empty").hidden = shown.length > 0;
            tick();
          }
          function districts() {
            const select = document.getElementById("filter-district");
            const chosen = select.value;
            const names = [...new Set(tickets.map((t) => t.meter.district).filter(Boolean))].sort();
            const options = [new Option("all", "")].concat(names.map((n) => new Option(n, n)));
            select.replaceChildren(...options);
            select.value = names.includes(chosen) ? chosen : "";
          }
          let loading = null, again = false;
          async function load() {
            if (loading) { again = true; return loading; }
            loading = (async () => {
              try {
                const all = [];
                let url = "/dispatch/v1/tickets?limit=1000";
                for (let pages = 0; url && pages < 10; pages++) {
                  const response = await fetch(url, { credentials: "same-origin" });
                  if (response.status === 401) { location.href = "/console/sign-in"; return; }
                  if (!response.ok) throw new Error("HTTP " + response.status);
                  const json = await response.json();
                  all.push(...json.tickets);
                  url = json.next_cursor ? "/dispatch/v1/tickets?limit=1000&cursor=" +
                    encodeURIComponent(json.next_cursor) : null;
                }
                const now = Date.now();
                for (const t of all) if (!firstSeen.has(t.id)) firstSeen.set(t.id, now);
                tickets = all;
                districts();
                render();
              } catch (e) {
                say("Could not load the tickets: " + e.message, false);
              }
            })();
            await loading;
            loading = null;
            if (again) { again = false; load(); }
          }
          function listen() {
            const live = document.getElementById("live");
            const source = new EventSource("/console/events");
            source.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; load(); });
            source.addEventListener("ticket", () => load());
            source.addEventListener("resync", () => load());
            source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "live off"; });
          }

          if (page === "list") {
            for (const id of ["filter-priority", "filter-district", "filter-status", "filter-origin"]) {
              document.getElementById(id).addEventListener("change", render);
            }
            load();
            listen();
          }

          // ---- one ticket ----
          if (page === "ticket") {
            const article = document.getElementById("ticket");
            const id = article && article.dataset.ticket;
            for (const b of document.querySelectorAll("button.step")) {
              b.addEventListener("click", async () => {
                if (await step(id, b.dataset.step)) setTimeout(() => location.reload(), 600);
              });
            }
            // The page follows its ticket: when an event of this ticket commits (another desk's step, a new alarm,
            // an escalation) or the stream reconnects, the page is built again from the server, unless a note is
            // being written: then the banner says what changed and the page waits for the dispatcher.
            const note = document.getElementById("note");
            const live = document.getElementById("live");
            let connected = false;
            function changed(what) {
              if (note && note.value.trim() !== "") {
                say("Ticket #" + id + ": " + what + " meanwhile; reload to see it (your note is not sent yet).", true);
              } else {
                location.reload();
              }
            }
            const source = new EventSource("/console/events");
            source.addEventListener("open", () => {
              live.textContent = "live"; live.className = "live on";
              if (connected) changed("the live feed reconnected");
              connected = true;
            });
            source.addEventListener("ticket", (message) => {
              let event = {};
              try { event = JSON.parse(message.data); } catch (e) { return; }
              if (String((event.ticket || {}).id) === String(id)) changed(words(event.event) + " recorded");
            });
            source.addEventListener("resync", () => changed("the live feed resynchronised"));
            source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "live off"; });
            const form = document.getElementById("note-form");
            if (form) form.addEventListener("submit", async (event) => {
              event.preventDefault();
              const input = document.getElementById("note");
              try {
                await post("/console/tickets/" + id + "/notes", { note: input.value });
                say("Note added to ticket #" + id + ".", true);
                setTimeout(() => location.reload(), 600);
              } catch (e) { say("The note was refused: " + e.message, false); }
            });
            tick();
          }
        })();
        """#
}
