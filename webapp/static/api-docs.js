// The API's documentation page: Swagger UI over the OpenAPI document named by #swagger-ui.
window.addEventListener("load", function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle === "undefined") { return; }
  document.getElementById("endpoints").hidden = true;
  SwaggerUIBundle({
    url: root.dataset.url,
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
  });
});
