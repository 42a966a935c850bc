// The script a report page ends with: it marks on <body> how many of its images the browser
// drew (a missing or broken file has no natural width), so a headless browser can check it.
export const imagesLoadedScript = `<script>
window.addEventListener("load", () => {
  const loaded = Array.from(document.images).filter((image) => image.complete && image.naturalWidth > 0);
  document.body.dataset.imagesLoaded = String(loaded.length);
});
</script>`;
