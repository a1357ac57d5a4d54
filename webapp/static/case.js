// The case page's diagram: the definition version the case runs on, in the bpmn-js viewer,
// with done, current and waiting elements marked (ids computed by the server).
// A case's diagram is wide (a lane per role, fifty elements): fitted whole into the page it
// is unreadably small, so it opens at a readable scale on the step waiting now (the whole
// diagram when none is), can be dragged and zoomed (the navigated viewer: drag, Ctrl+wheel),
// and its buttons zoom in, zoom out, fit the whole diagram or go back to the current step.
(function () {
  "use strict";
  const container = document.getElementById("case-diagram");
  const source = document.getElementById("case-diagram-data");
  if (!container || !source) return;
  const Viewer = window.BpmnJS;
  if (typeof Viewer === "undefined") return;
  const data = JSON.parse(source.textContent);
  const viewer = new Viewer({ container: container });
  const controls = document.getElementById("case-diagram-controls");
  //: the scale the labels read at (1 = the diagram's own size)
  const READABLE = 0.9;
  const STEP = 1.25;

  function fail(error) {
    const message = document.createElement("p");
    message.className = "error-message";
    message.textContent = container.dataset.error + (error ? " (" + error.message + ")" : "");
    container.replaceChildren(message);
    if (controls) controls.hidden = true;
  }

  function focusCurrent(canvas, registry) {
    // the box around the elements waiting for someone, shown at a readable scale
    const ids = (data.current || []).concat(data.waiting || []).filter((id) => registry.get(id));
    if (!ids.length) {
      canvas.zoom("fit-viewport", "auto");
      return;
    }
    const shapes = ids.map((id) => registry.get(id)).filter((s) => s.width !== undefined);
    if (!shapes.length) {
      canvas.zoom("fit-viewport", "auto");
      return;
    }
    const left = Math.min(...shapes.map((s) => s.x));
    const top = Math.min(...shapes.map((s) => s.y));
    const right = Math.max(...shapes.map((s) => s.x + s.width));
    const bottom = Math.max(...shapes.map((s) => s.y + s.height));
    canvas.zoom(READABLE);
    const box = canvas.viewbox();
    canvas.viewbox({
      x: (left + right) / 2 - box.width / 2,
      y: (top + bottom) / 2 - box.height / 2,
      width: box.width,
      height: box.height,
    });
  }

  fetch(data.url, { credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      return response.text();
    })
    .then((xml) => viewer.importXML(xml))
    .then(() => {
      const canvas = viewer.get("canvas");
      const registry = viewer.get("elementRegistry");
      for (const marker of ["done", "waiting", "current"]) {
        for (const id of data[marker] || []) {
          if (registry.get(id)) canvas.addMarker(id, marker);
        }
      }
      focusCurrent(canvas, registry);
      if (controls) {
        controls.hidden = false;
        controls.addEventListener("click", (event) => {
          const button = event.target.closest("button[data-zoom]");
          if (!button) return;
          const action = button.dataset.zoom;
          if (action === "in") canvas.zoom(canvas.zoom() * STEP);
          else if (action === "out") canvas.zoom(canvas.zoom() / STEP);
          else if (action === "fit") canvas.zoom("fit-viewport", "auto");
          else if (action === "current") focusCurrent(canvas, registry);
          container.dataset.zoom = canvas.zoom().toFixed(3);
        });
      }
      container.dataset.zoom = canvas.zoom().toFixed(3);
      container.dataset.ready = "true";
    })
    .catch(fail);
})();
