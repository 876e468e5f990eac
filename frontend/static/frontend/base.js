// Behaviour every screen shares: the language switch submits on change (its button is for no-JS).
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.requestSubmit());
}
document.documentElement.classList.add("js");
