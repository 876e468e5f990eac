// The notice sheet's print button (the page's print styles hide the header and the form).
document.getElementById("print-notice")?.addEventListener("click", () => window.print());
