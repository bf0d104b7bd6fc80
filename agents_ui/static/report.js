// The public report form (report.html); a module, so strict. No inline script: the CSP
// allows none.
// Every text from the server or the user goes in through textContent: never parsed as HTML.
const form = document.getElementById("report");
const result = document.getElementById("result");
const MAX_PHOTO = 5 * 1024 * 1024;

function show(kind, title, lines) {
  result.className = kind;
  result.replaceChildren();
  const head = document.createElement("div");
  head.textContent = title;
  result.append(head);
  if (lines && lines.length) {
    const list = document.createElement("ul");
    for (const line of lines) {
      const item = document.createElement("li");
      item.textContent = line;
      list.append(item);
    }
    result.append(list);
  }
}

async function loadServices() {
  try {
    const [zh, en] = await Promise.all([
      fetch("/open311/v2/services.json").then((r) => r.json()),
      fetch("/open311/v2/services.json?locale=en").then((r) => r.json()),
    ]);
    const english = new Map(en.map((s) => [s.service_code, s.service_name]));
    const select = document.getElementById("service");
    for (const service of zh) {
      const option = document.createElement("option");
      option.value = service.service_code;
      option.textContent = service.service_name + " / " + (english.get(service.service_code) || "");
      select.append(option);
    }
  } catch (error) {
    // The form still works without the list: an agent chooses the kind.
  }
}

document.getElementById("locate").addEventListener("click", () => {
  const where = document.getElementById("where");
  if (!navigator.geolocation) {
    where.textContent = "此浏览器不能定位 / this browser cannot share a location";
    return;
  }
  where.textContent = "正在定位… / locating…";
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const { latitude, longitude } = position.coords;
      document.getElementById("latitude").value = latitude.toFixed(6);
      document.getElementById("longitude").value = longitude.toFixed(6);
      where.textContent = "已定位 / located: " + latitude.toFixed(5) + ", " + longitude.toFixed(5);
    },
    () => { where.textContent = "无法定位，请填写地址 / no location: please type the address"; },
    { enableHighAccuracy: true, timeout: 15000 },
  );
});

// 办不成事: where the citizen already tried is asked only of those who say they did.
const hardCase = document.getElementById("hard-case");
const tried = document.getElementById("tried");
hardCase.addEventListener("change", () => { tried.hidden = !hardCase.checked; });

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const photo = data.get("photo");
  if (photo && photo.size > MAX_PHOTO) {
    show("err", "照片不能超过 5 MB / the photo must be at most 5 MB");
    return;
  }
  if (photo && photo.size === 0) data.delete("photo");
  if (!hardCase.checked) data.delete("tried_elsewhere");
  const button = document.getElementById("send");
  button.disabled = true;
  try {
    // No cookies: the endpoint is public, and a signed-in agent's session would ask
    // for a CSRF token this page does not have.
    const response = await fetch("/api/v1/public/reports", {
      method: "POST", body: data, credentials: "omit",
    });
    let body = null;
    try { body = await response.json(); } catch (error) { body = null; }
    if (response.ok && body) {
      show("ok", "已收到，工单编号 / Received, your number:");
      const number = document.createElement("div");
      number.id = "number";
      number.textContent = body.number;
      result.append(number);
      const note = document.createElement("p");
      note.textContent = "请保存编号，凭编号和手机号可随时查询进度；我们会电话回访。 / Keep this number to follow your report with your phone; we will call you back. ";
      const track = document.createElement("a");
      track.href = "/track?number=" + encodeURIComponent(body.number);
      track.textContent = "查询进度 / Track it";
      track.dataset.test = "track";
      note.append(track);
      result.append(note);
      form.reset();
      tried.hidden = true;
      document.getElementById("where").textContent = "";
    } else if (body && body.error) {
      const lines = Object.entries(body.error.fields || {}).map(([name, text]) => name + ": " + text);
      const wait = response.headers.get("Retry-After");
      if (wait) lines.push("请 " + wait + " 秒后再试 / try again in " + wait + " seconds");
      show("err", body.error.message, lines);
    } else {
      show("err", "提交失败（" + response.status + "） / sending failed (" + response.status + ")");
    }
  } catch (error) {
    show("err", "网络错误，请稍后再试 / network error, please try again");
  } finally {
    button.disabled = false;
  }
});

loadServices();
