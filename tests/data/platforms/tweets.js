window.YTD.tweets.part0 = [
 {
  "tweet": {
   "id_str": "1767000000000000001",
   "id": "1767000000000000001",
   "full_text": "Refunds are taking 10 days this week, sorry",
   "created_at": "Tue Mar 10 14:02:00 +0000 2026",
   "lang": "en",
   "favorite_count": "12",
   "retweet_count": "3",
   "truncated": false,
   "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
   "entities": {
    "hashtags": [],
    "user_mentions": []
   }
  }
 },
 {
  "tweet": {
   "id_str": "1767000000000000002",
   "id": "1767000000000000002",
   "full_text": "@marta_viaja DM us your case number",
   "created_at": "Tue Mar 10 14:30:00 +0000 2026",
   "lang": "en",
   "favorite_count": "0",
   "retweet_count": "0",
   "in_reply_to_status_id_str": "1766999999999999999",
   "in_reply_to_screen_name": "marta_viaja",
   "entities": {
    "hashtags": [],
    "user_mentions": []
   }
  }
 }
]