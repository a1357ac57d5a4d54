// Try before deploy (docs/try-run.md): the "Try" button posts the modeler's current diagram
// to the server, which runs synthetic cases of it in a throwaway database; the report is
// shown below the canvas (cases per end event, where cases wait, the problems), and each
// problem is marked on the diagram. A click on an element's line selects it on the canvas.
(function () {
  "use strict";
  const panel = document.getElementById("try-panel");
  if (!panel) return;
  const msg = (name) => panel.dataset["msg" + name] || name;
  const button = document.getElementById("try-button");
  const status = document.getElementById("try-status");
  const out = document.getElementById("try-report");
  // below the canvas and its issue list (the template puts it with the page's scripts)
  const issues = document.getElementById("issues");
  if (issues) issues.after(panel);

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
  }

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error-message" : "";
  }

  function select(id) {
    const m = window.hotlineModeler;
    const element = m && m.modeler.get("elementRegistry").get(id);
    if (!element) return;
    m.modeler.get("selection").select(element);
    m.modeler.get("canvas").scrollToElement(element);
  }

  function item(element, text) {
    const li = document.createElement("li");
    li.textContent = text;
    if (element) {
      li.dataset.element = element;
      li.addEventListener("click", () => select(element));
    }
    return li;
  }

  function section(title, className, items) {
    if (!items.length) return [];
    const h = document.createElement("h3");
    h.textContent = title;
    const ul = document.createElement("ul");
    ul.className = className;
    ul.append(...items);
    return [h, ul];
  }

  const label = (row) => (row.name ? `${row.name} (${row.element})` : row.element);

  function render(report) {
    const summary = document.createElement("p");
    summary.className = "try-summary";
    summary.textContent = fill(msg("Summary"), {
      cases: report.cases,
      completed: report.completed,
      running: report.running,
      failed: report.failed + report.not_started,
      days: report.simulated_days,
    });
    const parts = [summary];
    if (report.truncated) {
      const p = document.createElement("p");
      p.textContent = msg("Truncated");
      parts.push(p);
    }
    parts.push(
      ...section(msg("Problems"), "try-problems",
        report.findings.map((f) => item(f.element, f.element ? `${label(f)}: ${f.message}` : f.message))),
      ...section(msg("Ends"), "try-ends",
        report.ends.map((e) => item(e.element, `${label(e)}: ${e.count}`))),
      ...section(msg("Waiting"), "try-waiting",
        report.waiting.map((e) => item(e.element, `${label(e)}: ${e.count}`)))
    );
    if (report.not_reached.length) {
      const details = document.createElement("details");
      const summaryLine = document.createElement("summary");
      summaryLine.textContent = `${msg("NotReached")} (${report.not_reached.length})`;
      const ul = document.createElement("ul");
      ul.className = "try-not-reached";
      ul.append(...report.not_reached.map((e) => item(e.element, label(e))));
      details.append(summaryLine, ul);
      parts.push(details);
    }
    out.replaceChildren(...parts);
    out.hidden = false;
  }

  async function run() {
    const m = window.hotlineModeler;
    if (!m) return;
    button.disabled = true;
    out.hidden = true;
    say(msg("Trying"), false);
    try {
      const xml = await m.currentXml();
      const response = await fetch(panel.dataset.tryUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": m.csrf },
        body: JSON.stringify({
          xml,
          file_name: m.root.dataset.fileName,
          cases: Number(document.getElementById("try-cases").value),
          seed: Number(document.getElementById("try-seed").value),
        }),
      });
      let body = null;
      try { body = await response.json(); } catch (_) { body = null; }
      if (!body) throw new Error(m.msg("Failed") + ` (HTTP ${response.status})`);
      if (!body.ok) {
        m.showIssues(body.issues || []);
        say(body.message || m.msg("Invalid"), true);
        return;
      }
      const report = body.report;
      m.showIssues(report.findings.filter((f) => f.element));
      render(report);
      say(report.ok ? msg("Clean") : msg("Found"), !report.ok);
    } catch (err) {
      say(err.message || m.msg("Failed"), true);
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", run);
})();
