// The status bar's words, from the shell's StatusBar. Pure, so it is tested without a window.

import type { StatusBar } from "./api";
import { formatDateTime, t } from "./i18n";
import { say } from "./messages";

export interface StatusView {
  /** online, offline, syncing, error or standalone: the bar's colour and icon. */
  tone: string;
  state: string;
  waiting: string;
  lastSync: string;
  /** 0..1 while pushing, null otherwise. */
  progress: number | null;
  detail: string | null;
}

export function statusView(s: StatusBar): StatusView {
  const tone = s.server === null ? "standalone" : s.phase;
  const state = s.server === null ? t("status.standalone") : t(`status.phase.${s.phase}`);
  // Before a clerk first opens the database, nothing could be counted: "all changes sent"
  // would be a guess.
  const waiting = !s.counted
    ? t("status.not_counted")
    : s.server === null
      ? t("status.kept_here", { count: s.waiting })
      : s.waiting === 0
        ? t("status.nothing_waiting")
        : t("status.waiting", { count: s.waiting });
  const lastSync =
    s.server === null
      ? ""
      : s.last_success
        ? t("status.last_sync", { at: formatDateTime(s.last_success) })
        : t("status.never_synced");
  let progress: number | null = null;
  if (s.phase === "syncing") {
    progress = s.progress.to_push > 0 ? Math.min(1, s.progress.pushed / s.progress.to_push) : 0;
  }
  const problems: string[] = [];
  if (typeof s.low_disk === "number") problems.push(t("status.low_disk", { mb: Math.floor(s.low_disk / (1024 * 1024)) }));
  if (s.insecure) problems.push(t("status.insecure"));
  if (s.refused > 0) problems.push(t("status.refused", { count: s.refused }));
  if (s.conflicts > 0) problems.push(t("status.conflicts", { count: s.conflicts }));
  if (s.update?.state === "refused") problems.push(t("update.refused", { version: s.update.version }));
  // Online, the task's message only repeats the refused and conflict counts said above.
  if (s.message && s.phase !== "online") problems.push((s.translation && say(s.translation)) || s.message);
  return {
    tone,
    state,
    waiting,
    lastSync,
    progress,
    detail: problems.length ? problems.join(" · ") : null,
  };
}
