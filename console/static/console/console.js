// The console's few scripts: copy a secret, show the chosen algorithm's parameters, upload
// with a byte progress bar, and the model playground. Everything else is htmx or plain forms.
"use strict";

function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (field) return field.value;
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function text(tag, value, className) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (className) el.className = className;
  return el;
}

function errorMessage(body, status) {
  try { return JSON.parse(body).error.message; } catch (e) { return "The request failed (" + status + ")."; }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  navigator.clipboard.writeText(source.textContent.trim()).then(
    () => { button.textContent = "Copied"; },
    () => { button.textContent = "Select and copy it"; }
  );
});

function showAlgorithm(select) {
  document.querySelectorAll("fieldset[data-algorithm]").forEach((fieldset) => {
    const shown = fieldset.dataset.algorithm === select.value;
    fieldset.hidden = !shown;
    fieldset.disabled = !shown;
  });
}

function upload(form) {
  const file = form.querySelector("input[type=file]").files[0];
  const bar = form.querySelector("progress");
  const status = form.querySelector(".upload-status");
  const line = form.querySelector("#upload-text");
  const error = form.querySelector("#upload-error");
  const request = new XMLHttpRequest();
  error.hidden = true;
  status.hidden = false;
  request.upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    bar.value = Math.round((100 * e.loaded) / e.total);
    line.textContent = e.loaded.toLocaleString() + " of " + e.total.toLocaleString() + " bytes sent";
  });
  request.addEventListener("load", () => {
    if (request.status === 201) {
      bar.value = 100;
      const dataset = JSON.parse(request.responseText);
      line.textContent = "Uploaded: " + dataset.n_rows + " rows.";
      window.location.assign(form.action.replace(/upload$/, dataset.id));
    } else {
      status.hidden = true;
      error.textContent = errorMessage(request.responseText, request.status);
      error.hidden = false;
    }
  });
  request.addEventListener("error", () => {
    status.hidden = true;
    error.textContent = "The upload did not reach the server. Check the connection and try again.";
    error.hidden = false;
  });
  request.open("POST", form.action);
  request.setRequestHeader("X-CSRFToken", csrfToken());
  const body = new FormData(form);
  body.delete("csrfmiddlewaretoken");
  if (!body.get("name")) body.delete("name"); // the API names it after the file
  request.send(body);
  line.textContent = "0 of " + file.size.toLocaleString() + " bytes sent";
}

function readImage(input) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = reject;
    reader.readAsDataURL(input.files[0]);
  });
}

async function playground(form, action) {
  const row = {};
  for (const input of form.querySelectorAll("[data-dtype]")) {
    const dtype = input.dataset.dtype;
    if (dtype === "number") row[input.name] = input.value === "" ? null : Number(input.value);
    else if (dtype === "boolean") row[input.name] = input.value === "true";
    else if (dtype === "image") row[input.name] = await readImage(input);
    else row[input.name] = input.value;
  }
  const url = action === "explain" ? form.dataset.explain : form.dataset.predict;
  const answer = document.getElementById("playground-answer");
  answer.replaceChildren(text("p", "Asking the model…", "muted"));
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ inputs: [row], version: Number(form.dataset.version) }),
    credentials: "same-origin",
  });
  const body = await response.text();
  answer.replaceChildren();
  if (!response.ok) {
    answer.append(text("p", errorMessage(body, response.status), "error"));
    return;
  }
  const data = JSON.parse(body);
  const result = text("p", "");
  result.append("Prediction: ", text("strong", String(data.predictions[0])));
  result.dataset.testid = "prediction";
  answer.append(result);
  if (data.probabilities) {
    const table = document.createElement("table");
    data.classes.forEach((label, i) => {
      const tr = document.createElement("tr");
      tr.append(text("th", String(label)), text("td", data.probabilities[0][i].toFixed(4), "num mono"));
      table.append(tr);
    });
    answer.append(table);
  }
  if (data.explanations) {
    const contributions = Object.entries(data.explanations[0]).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    const largest = Math.max(...contributions.map((c) => Math.abs(c[1])), 1e-12);
    const base = Array.isArray(data.base_value) ? data.base_value[0] : data.base_value;
    answer.append(text("p", "Base value " + base.toFixed(4) + " plus these contributions gives " + data.outputs[0].toFixed(4) + " (" + data.method + ").", "muted"));
    const bars = document.createElement("div");
    bars.className = "hbars";
    for (const [name, value] of contributions) {
      const bar = document.createElement("span");
      bar.className = "hbar" + (value < 0 ? " neg" : "");
      bar.style.display = "block";
      bar.style.width = ((100 * Math.abs(value)) / largest).toFixed(1) + "%";
      const cell = document.createElement("span");
      cell.append(bar);
      bars.append(text("span", name), cell, text("span", (value >= 0 ? "+" : "") + value.toPrecision(4), "num mono"));
    }
    answer.append(bars);
  }
  const meter = data.explanations ? " explanation(s)" : " prediction(s)";
  answer.append(text("p", "Billed as " + data.predictions.length + meter + ", as through the API.", "muted"));
}

document.addEventListener("DOMContentLoaded", () => {
  const algorithm = document.querySelector("[data-shows-fieldset]");
  if (algorithm) {
    showAlgorithm(algorithm);
    algorithm.addEventListener("change", () => showAlgorithm(algorithm));
  }
  const uploadForm = document.querySelector("form[data-upload]");
  if (uploadForm) {
    uploadForm.addEventListener("submit", (event) => { event.preventDefault(); upload(uploadForm); });
  }
  const play = document.querySelector("form[data-playground]");
  if (play) {
    play.addEventListener("submit", (event) => {
      event.preventDefault();
      playground(play, event.submitter ? event.submitter.value : "predict").catch((e) => {
        document.getElementById("playground-answer").replaceChildren(text("p", String(e), "error"));
      });
    });
  }
});
