// Follows the job list through /api/jobs/long_poll: one request open at a
// time, answered when any job changes. No timer asks the server anything.

import { getJson, query } from "./api.js";
import { sleep } from "./util.js";

const RETRY_MS = 1000;

export class JobWatch {
  // params: the page of the list (status, offset, limit, order, fields).
  constructor(params, onList, onError) {
    this.params = params;
    this.onList = onList;
    this.onError = onError || (() => {});
    this.controller = null;
  }

  start() {
    this.stop();
    this.controller = new AbortController();
    this.run(this.controller.signal);
    return this;
  }

  // Show another page or filter: drop the open long-poll and start again.
  follow(params) {
    this.params = params;
    this.start();
  }

  stop() {
    this.controller?.abort();
    this.controller = null;
  }

  async run(signal) {
    let token = null;
    while (!signal.aborted) {
      try {
        const path = token
          ? `/api/jobs/long_poll?${query({ ...this.params, token })}`
          : `/api/jobs?${query(this.params)}`;
        const list = await getJson(path, { signal });
        if (signal.aborted) return;
        if (list) {
          token = list.token;
          this.onList(list);
        }
      } catch (error) {
        if (signal.aborted) return;
        this.onError(error);
        await sleep(RETRY_MS, signal);
      }
    }
  }
}
