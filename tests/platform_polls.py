"""Local servers that answer as YouTube's Data API and Reddit's public JSON do (no tests here).

The shapes follow the platforms' documentation: commentThreads.list pages with
`nextPageToken`, the key in the query, Google's error body
(`error.errors[].reason`: quotaExceeded, badRequest, videoNotFound); Reddit's
two Listings, `more` stubs and `/api/morechildren.json`, its 429 with
X-Ratelimit-Reset and its 403 body with a `reason`.
"""

from __future__ import annotations

import base64
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

KEY = "AIzaSy-test-key-0123456789"


def google_error(code: int, reason: str, message: str, domain: str = "global") -> dict[str, Any]:
    return {"error": {"code": code, "message": message,
                      "errors": [{"message": message, "domain": domain, "reason": reason}]}}


QUOTA = google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your "
                     "<a href=\"/youtube/v3/getting-started#quota\">quota</a>.", "youtube.quota")
BAD_KEY = google_error(400, "badRequest", "API key not valid. Please pass a valid API key.")


def yt_comment(comment_id: str, author: str, html: str, when: str, likes: int = 0, parent: str = "") -> dict[str, Any]:
    snippet: dict[str, Any] = {
        "authorDisplayName": author, "authorProfileImageUrl": "https://yt3.ggpht.com/a/x=s48",
        "authorChannelUrl": f"http://www.youtube.com/channel/UC{author}", "authorChannelId": {"value": f"UC{author}"},
        "videoId": "vidRefund01", "textDisplay": html, "textOriginal": html, "canRate": True,
        "viewerRating": "none", "likeCount": likes, "publishedAt": when, "updatedAt": when,
    }
    if parent:
        snippet["parentId"] = parent
    return {"kind": "youtube#comment", "etag": f"e-{comment_id}", "id": comment_id, "snippet": snippet}


def yt_thread(thread_id: str, author: str, html: str, when: str, replies: list[dict[str, Any]] | None = None,
              total: int | None = None) -> dict[str, Any]:
    """A thread with the replies YouTube puts beside it; `total`: its totalReplyCount, when it has more."""
    thread: dict[str, Any] = {
        "kind": "youtube#commentThread", "etag": f"t-{thread_id}", "id": thread_id,
        "snippet": {"videoId": "vidRefund01", "topLevelComment": yt_comment(thread_id, author, html, when),
                    "canReply": True, "totalReplyCount": len(replies or []) if total is None else total,
                    "isPublic": True},
    }
    if replies:
        thread["replies"] = {"comments": replies}
    return thread


class FakeYouTube:
    """commentThreads.list of one video, newest first, `page` threads an answer; trouble on demand."""

    def __init__(self, page: int = 2) -> None:
        self.page = page
        self.threads: list[dict[str, Any]] = []
        self.requests: list[dict[str, str]] = []
        self.too_many = 0
        self.quota = False
        #: Every reply of a thread, for comments.list?parentId= (which pages `page` at a time too).
        self.replies: dict[str, list[dict[str, Any]]] = {}
        self.reply_requests: list[dict[str, str]] = []
        self.app = Starlette(routes=[Route("/youtube/v3/commentThreads", self.list),
                                     Route("/youtube/v3/comments", self.comments)])

    async def comments(self, request: Request) -> JSONResponse:
        params = dict(request.query_params)
        self.reply_requests.append(params)
        if params.get("key") != KEY:
            return JSONResponse(BAD_KEY, status_code=400)
        start = int(base64.b64decode(params["pageToken"]).decode()) if params.get("pageToken") else 0
        every = self.replies.get(params.get("parentId", ""), [])
        body: dict[str, Any] = {"kind": "youtube#commentListResponse", "etag": f"c{start}",
                                "items": every[start : start + self.page]}
        if start + self.page < len(every):
            body["nextPageToken"] = base64.b64encode(str(start + self.page).encode()).decode()
        return JSONResponse(body)

    async def list(self, request: Request) -> JSONResponse:
        params = dict(request.query_params)
        self.requests.append(params)
        if params.get("key") != KEY:
            return JSONResponse(BAD_KEY, status_code=400)
        if self.quota:
            return JSONResponse(QUOTA, status_code=403)
        if self.too_many:
            self.too_many -= 1
            return JSONResponse({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).",
                                           "status": "RESOURCE_EXHAUSTED"}}, status_code=429, headers={"Retry-After": "0"})
        if params.get("videoId") != "vidRefund01":
            return JSONResponse(google_error(404, "videoNotFound", "The video identified by the <code>videoId</code> "
                                             "parameter could not be found.", "youtube.commentThread"), status_code=404)
        if "snippet" not in params.get("part", "").split(","):
            return JSONResponse(google_error(400, "invalidPart", "part must include snippet"), status_code=400)
        start = int(base64.b64decode(params["pageToken"]).decode()) if params.get("pageToken") else 0
        items = self.threads[start : start + self.page]
        body: dict[str, Any] = {"kind": "youtube#commentThreadListResponse", "etag": f"p{start}",
                                "pageInfo": {"totalResults": len(items), "resultsPerPage": self.page}, "items": items}
        if start + self.page < len(self.threads):
            body["nextPageToken"] = base64.b64encode(str(start + self.page).encode()).decode()
        return JSONResponse(body)


def rd_comment(name: str, parent: str, author: str, body: str, score: int, when: float,
               replies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"kind": "t1", "data": {
        "id": name.removeprefix("t1_"), "name": name, "parent_id": parent, "link_id": "t3_thr1", "author": author,
        "body": body, "body_html": f"&lt;div class=\"md\"&gt;&lt;p&gt;{body}&lt;/p&gt;&lt;/div&gt;", "score": score,
        "ups": score, "likes": None, "created_utc": when, "subreddit": "LumoBank",
        "replies": {"kind": "Listing", "data": {"modhash": "", "children": replies or [], "after": None,
                                                "before": None}} if replies else "",
    }}


def rd_more(parent: str, children: list[str]) -> dict[str, Any]:
    return {"kind": "more", "data": {"count": len(children), "name": f"t1_{children[0]}", "id": children[0],
                                     "parent_id": parent, "depth": 0, "children": children}}


class FakeReddit:
    """One thread's JSON twin and morechildren; a 429 with X-Ratelimit-Reset, or a private subreddit."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], str]] = []
        self.too_many = 0
        self.private = False
        tree = [
            rd_comment("t1_c1", "t3_thr1", "sara_r", "Refund pending since March", -4, 1773151320.0, [
                rd_comment("t1_c2", "t1_c1", "lumo_support", "Sorry Sara, DM us", 12, 1773151400.0, [
                    rd_comment("t1_c3", "t1_c2", "sara_r", "Done, thanks", 3, 1773151500.0)])]),
            rd_more("t3_thr1", ["c4", "c5"]),
        ]
        self.thread = [
            {"kind": "Listing", "data": {"modhash": "", "children": [{"kind": "t3", "data": {
                "id": "thr1", "name": "t3_thr1", "title": "Refunds stuck?", "author": "op_user", "score": 120}}],
                "after": None, "before": None}},
            {"kind": "Listing", "data": {"modhash": "", "children": tree, "after": None, "before": None}},
        ]
        self.more = {"c4": rd_comment("t1_c4", "t3_thr1", "marco_it", "Anche io aspetto", 2, 1773152000.0),
                     "c5": rd_comment("t1_c5", "t1_c1", "ana_es", "Same here", -1, 1773152100.0)}
        self.app = Starlette(routes=[Route("/r/{sub}/comments/{tid}.json", self.comments),
                                     Route("/api/morechildren.json", self.morechildren)])

    def _trouble(self, request: Request) -> JSONResponse | None:
        self.requests.append((request.url.path, dict(request.query_params), request.headers.get("user-agent", "")))
        if self.too_many:
            self.too_many -= 1
            return JSONResponse({"message": "Too Many Requests", "error": 429}, status_code=429,
                                headers={"x-ratelimit-remaining": "0.0", "x-ratelimit-used": "100",
                                         "x-ratelimit-reset": "1"})
        if self.private:
            return JSONResponse({"reason": "private", "message": "Forbidden", "error": 403}, status_code=403)
        return None

    async def comments(self, request: Request) -> JSONResponse:
        trouble = self._trouble(request)
        if trouble is not None:
            return trouble
        if request.path_params["tid"] != "thr1":
            return JSONResponse({"message": "Not Found", "error": 404}, status_code=404)
        return JSONResponse(self.thread)

    async def morechildren(self, request: Request) -> JSONResponse:
        trouble = self._trouble(request)
        if trouble is not None:
            return trouble
        wanted = request.query_params.get("children", "").split(",")
        things = [self.more[c] for c in wanted if c in self.more]
        return JSONResponse({"json": {"errors": [], "data": {"things": things}}})
