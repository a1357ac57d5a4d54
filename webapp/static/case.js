// The case page's diagram: the definition version the case runs on, in the bpmn-js viewer,
// with done, current and waiting elements marked (ids computed by the server).
(function () {
  "use strict";
  const container = document.getElementById("case-diagram");
  const source = document.getElementById("case-diagram-data");
  if (!container || !source || typeof BpmnJS === "undefined") return;
  const data = JSON.parse(source.textContent);
  const viewer = new BpmnJS({ container: container });

  function fail(error) {
    const message = document.createElement("p");
    message.className = "error-message";
    message.textContent = container.dataset.error + (error ? " (" + error.message + ")" : "");
    container.replaceChildren(message);
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
      canvas.zoom("fit-viewport");
      for (const marker of ["done", "waiting", "current"]) {
        for (const id of data[marker] || []) {
          if (registry.get(id)) canvas.addMarker(id, marker);
        }
      }
      container.dataset.ready = "true";
    })
    .catch(fail);
})();
