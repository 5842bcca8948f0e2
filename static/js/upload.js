// Drag and drop onto the upload form. Without this script the plain
// <input type="file"> works the same; this only adds the drop target.
(function () {
  "use strict";

  function setup(form) {
    var zone = form.querySelector("[data-dropzone]");
    var input = zone && zone.querySelector("input[type=file]");
    if (!input) return;
    var chosen = zone.querySelector("[data-dropzone-chosen]");
    var hint = zone.querySelector("[data-dropzone-hint]");
    if (hint) hint.hidden = false;

    function show() {
      if (chosen) chosen.textContent = input.files.length ? input.files[0].name : "";
    }
    input.addEventListener("change", show);

    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragover");
      });
    });
    ["dragleave", "dragend", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("dragover");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      var one = new DataTransfer();
      one.items.add(files[0]); // one file a batch
      input.files = one.files;
      show();
    });

    form.addEventListener("submit", function () {
      var button = form.querySelector("[data-upload-submit]");
      var busy = form.querySelector("[data-upload-busy]");
      if (button) button.disabled = true; // one click, one upload
      if (busy) busy.hidden = false;
    });
    // Back from the next page (back-forward cache): usable again.
    window.addEventListener("pageshow", function () {
      var button = form.querySelector("[data-upload-submit]");
      var busy = form.querySelector("[data-upload-busy]");
      if (button) button.disabled = false;
      if (busy) busy.hidden = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload-form]").forEach(setup);
  });
})();
