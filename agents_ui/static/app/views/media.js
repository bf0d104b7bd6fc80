// What came with an order or was added to it, in one strip: a photo as a thumbnail that
// opens full size, a recorded message as a player, another file as a link (downloaded).
// Every address is this server's: it checks the session and who may see the order, and
// fetches a recording from the carrier itself. An Open311 client's photo address is
// another site's: a plain link, never embedded (the page's CSP shows only our images).

import { reactive } from "vue";
import { useI18n } from "vue-i18n";

// An attachment (proof or progress file) as a media item.
export function fileMedia(file) {
  const photo = String(file.content_type || "").startsWith("image/");
  return { kind: photo ? "photo" : "file", url: file.url, name: file.filename };
}

// An order's (or an inbox row's) media, then its files; `photosOnly` leaves out the
// files that are not pictures (a strip of thumbnails).
export function orderMedia(order, { photosOnly = false } = {}) {
  const files = (order.attachments || []).map(fileMedia);
  return [...(order.media || []), ...(photosOnly ? files.filter((f) => f.kind === "photo") : files)];
}

export const MediaStrip = {
  // compact: small thumbnails and player, for list rows (drafts, the inbox).
  props: { items: { type: Array, default: () => [] }, compact: Boolean },
  setup() {
    const { t } = useI18n();
    const preview = reactive({ open: false, url: "", name: "" });
    const open = (item) => Object.assign(preview, { open: true, url: item.url, name: item.name || "" });
    return { t, preview, open };
  },
  template: `
  <div v-if="items.length" class="media-strip" :class="{ compact }" data-test="media" @click.stop @keyup.enter.stop>
    <template v-for="m in items" :key="m.url">
      <button v-if="m.kind === 'photo'" type="button" class="media-thumb" data-test="media-photo"
              :title="m.name || t('media.photo')" :aria-label="t('media.openPhoto')" @click="open(m)">
        <img :src="m.url" :alt="m.name || t('media.photo')" loading="lazy">
      </button>
      <span v-else-if="m.kind === 'recording'" class="media-recording">
        <span v-if="!compact" class="muted small">{{ t('media.recording') }}</span>
        <audio controls preload="none" :src="m.url" data-test="media-recording" :aria-label="t('media.recording')"></audio>
      </span>
      <a v-else-if="m.kind === 'link'" class="link small" :href="m.url" target="_blank"
         rel="noopener noreferrer nofollow" referrerpolicy="no-referrer" data-test="media-link">{{ t('media.external') }}</a>
      <a v-else class="link small media-file" :href="m.url" data-test="media-file">{{ m.name || t('media.file') }}</a>
    </template>
  </div>
  <el-dialog v-model="preview.open" :title="preview.name || t('media.photo')" width="min(94vw, 980px)" append-to-body>
    <img class="media-full" :src="preview.url" :alt="preview.name || t('media.photo')" data-test="media-full">
    <template #footer>
      <a class="link small" :href="preview.url" target="_blank" rel="noopener">{{ t('media.original') }}</a>
    </template>
  </el-dialog>`,
};
