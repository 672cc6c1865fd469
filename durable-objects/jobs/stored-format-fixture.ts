/**
 * Recorded by stored-format.test.ts's stream on the code before the built-in aggregations were
 * jobs (commit 2c69386): the shard's state rows after the first half of the stream, and the
 * rows, the partials the shard sends and the hub's live views (JSON text) at the end. Never
 * regenerate it from the current code: it is what keeps the stored format fixed.
 */
export const AFTER_FIRST_HALF = {
  days: [
    {
      day: "2031-03-14",
      state:
        '{"day":"2031-03-14","counters":{"revenue_units":{"EUR":95000},"events":34,"page_views":6,"visitors":4,"sessions":4,"bounces":0,"cart_adds":6,"cart_removes":2,"checkouts":1,"purchases":1,"cart_add_units":622500,"cart_remove_units":135000},"funnel":{"product_views":4,"cart_adds":4,"checkouts":1,"purchases":1},"abandoned":{"sessions":0,"value_units":0}}',
    },
  ],
  dayEntries: [
    {
      day: "2031-03-14",
      map: "job:custom_events",
      key: "newsletter",
      value: "3",
    },
    {
      day: "2031-03-14",
      map: "job:custom_events",
      key: "product_view",
      value: "6",
    },
    {
      day: "2031-03-14",
      map: "job:custom_events",
      key: "signup_click",
      value: "3",
    },
    {
      day: "2031-03-14",
      map: "job:sessions_by_channel",
      key: "Email",
      value: "2",
    },
    {
      day: "2031-03-14",
      map: "job:sessions_by_channel",
      key: "Organic Search",
      value: "2",
    },
    {
      day: "2031-03-14",
      map: "pages",
      key: "/land/0",
      value: "1",
    },
    {
      day: "2031-03-14",
      map: "pages",
      key: "/land/1",
      value: "1",
    },
    {
      day: "2031-03-14",
      map: "pages",
      key: "/land/2",
      value: "1",
    },
    {
      day: "2031-03-14",
      map: "pages",
      key: "/land/3",
      value: "1",
    },
    {
      day: "2031-03-14",
      map: "pages",
      key: "/p/0",
      value: "1",
    },
    {
      day: "2031-03-14",
      map: "pages",
      key: "/p/4",
      value: "1",
    },
    {
      day: "2031-03-14",
      map: "products",
      key: "sku-0",
      value: '{"name":"name of sku-0","views":2,"cart_adds":2,"purchases":0,"revenue_units":0}',
    },
    {
      day: "2031-03-14",
      map: "products",
      key: "sku-1",
      value: '{"name":"name of sku-1","views":2,"cart_adds":2,"purchases":0,"revenue_units":0}',
    },
    {
      day: "2031-03-14",
      map: "products",
      key: "sku-2",
      value: '{"name":"name of sku-2","views":2,"cart_adds":2,"purchases":1,"revenue_units":95000}',
    },
    {
      day: "2031-03-14",
      map: "referrers",
      key: "ref-0.example",
      value: "2",
    },
    {
      day: "2031-03-14",
      map: "referrers",
      key: "ref-1.example",
      value: "2",
    },
    {
      day: "2031-03-14",
      map: "vitals",
      key: "/p/0",
      value:
        '{"samples":2,"metrics":{"LCP":{"zeros":0,"buckets":{"240":1},"count":1},"INP":{"zeros":0,"buckets":{"281":1},"count":1}}}',
    },
    {
      day: "2031-03-14",
      map: "vitals",
      key: "/p/1",
      value: '{"samples":1,"metrics":{"CLS":{"zeros":0,"buckets":{"-195":1},"count":1}}}',
    },
    {
      day: "2031-03-14",
      map: "vitals",
      key: "/p/2",
      value: '{"samples":1,"metrics":{"INP":{"zeros":0,"buckets":{"261":1},"count":1}}}',
    },
    {
      day: "2031-03-14",
      map: "vitals",
      key: "/p/3",
      value: '{"samples":1,"metrics":{"LCP":{"zeros":0,"buckets":{"269":1},"count":1}}}',
    },
    {
      day: "2031-03-14",
      map: "vitals",
      key: "/p/4",
      value: '{"samples":1,"metrics":{"CLS":{"zeros":0,"buckets":{"-126":1},"count":1}}}',
    },
  ],
  windows: [
    {
      start: 1931245190000,
      state:
        '{"start":1931245190000,"total":{"counters":{"revenue_units":{},"events":5,"page_views":1,"visitors":1,"sessions":1,"bounces":0,"cart_adds":1,"cart_removes":0,"checkouts":0,"purchases":0,"cart_add_units":42500,"cart_remove_units":0}},"emitted":{"revenue_units":{},"events":0,"page_views":0,"visitors":0,"sessions":0,"bounces":0,"cart_adds":0,"cart_removes":0,"checkouts":0,"purchases":0,"cart_add_units":0,"cart_remove_units":0},"parts":0}',
      needs_part: 1,
    },
    {
      start: 1931245200000,
      state:
        '{"start":1931245200000,"total":{"counters":{"revenue_units":{"EUR":95000},"events":24,"page_views":4,"visitors":4,"sessions":4,"bounces":0,"cart_adds":4,"cart_removes":2,"checkouts":1,"purchases":1,"cart_add_units":395000,"cart_remove_units":135000}},"emitted":{"revenue_units":{},"events":0,"page_views":0,"visitors":0,"sessions":0,"bounces":0,"cart_adds":0,"cart_removes":0,"checkouts":0,"purchases":0,"cart_add_units":0,"cart_remove_units":0},"parts":0}',
      needs_part: 1,
    },
    {
      start: 1931245210000,
      state:
        '{"start":1931245210000,"total":{"counters":{"revenue_units":{},"events":5,"page_views":1,"visitors":1,"sessions":1,"bounces":0,"cart_adds":1,"cart_removes":0,"checkouts":0,"purchases":0,"cart_add_units":185000,"cart_remove_units":0}},"emitted":{"revenue_units":{},"events":0,"page_views":0,"visitors":0,"sessions":0,"bounces":0,"cart_adds":0,"cart_removes":0,"checkouts":0,"purchases":0,"cart_add_units":0,"cart_remove_units":0},"parts":0}',
      needs_part: 1,
    },
  ],
  windowEntries: [
    {
      window_start: 1931245190000,
      map: "job:custom_events",
      key: "product_view",
      value: "1",
    },
    {
      window_start: 1931245190000,
      map: "job:custom_events",
      key: "signup_click",
      value: "1",
    },
    {
      window_start: 1931245190000,
      map: "job:sessions_by_channel",
      key: "Email",
      value: "1",
    },
    {
      window_start: 1931245190000,
      map: "pages",
      key: "/land/0",
      value: "1",
    },
    {
      window_start: 1931245190000,
      map: "products",
      key: "sku-0",
      value: '{"name":"name of sku-0","views":1,"cart_adds":1,"purchases":0,"revenue_units":0}',
    },
    {
      window_start: 1931245190000,
      map: "vitals",
      key: "LCP",
      value: '{"zeros":0,"buckets":{"240":1},"count":1}',
    },
    {
      window_start: 1931245200000,
      map: "job:custom_events",
      key: "newsletter",
      value: "2",
    },
    {
      window_start: 1931245200000,
      map: "job:custom_events",
      key: "product_view",
      value: "4",
    },
    {
      window_start: 1931245200000,
      map: "job:custom_events",
      key: "signup_click",
      value: "2",
    },
    {
      window_start: 1931245200000,
      map: "job:sessions_by_channel",
      key: "Email",
      value: "2",
    },
    {
      window_start: 1931245200000,
      map: "job:sessions_by_channel",
      key: "Organic Search",
      value: "2",
    },
    {
      window_start: 1931245200000,
      map: "pages",
      key: "/land/1",
      value: "1",
    },
    {
      window_start: 1931245200000,
      map: "pages",
      key: "/land/2",
      value: "1",
    },
    {
      window_start: 1931245200000,
      map: "pages",
      key: "/land/3",
      value: "1",
    },
    {
      window_start: 1931245200000,
      map: "pages",
      key: "/p/4",
      value: "1",
    },
    {
      window_start: 1931245200000,
      map: "products",
      key: "sku-0",
      value: '{"name":"name of sku-0","views":1,"cart_adds":1,"purchases":0,"revenue_units":0}',
    },
    {
      window_start: 1931245200000,
      map: "products",
      key: "sku-1",
      value: '{"name":"name of sku-1","views":2,"cart_adds":2,"purchases":0,"revenue_units":0}',
    },
    {
      window_start: 1931245200000,
      map: "products",
      key: "sku-2",
      value: '{"name":"name of sku-2","views":1,"cart_adds":1,"purchases":1,"revenue_units":95000}',
    },
    {
      window_start: 1931245200000,
      map: "vitals",
      key: "CLS",
      value: '{"zeros":0,"buckets":{"-195":1,"-126":1},"count":2}',
    },
    {
      window_start: 1931245200000,
      map: "vitals",
      key: "INP",
      value: '{"zeros":0,"buckets":{"261":1},"count":1}',
    },
    {
      window_start: 1931245200000,
      map: "vitals",
      key: "LCP",
      value: '{"zeros":0,"buckets":{"269":1},"count":1}',
    },
    {
      window_start: 1931245210000,
      map: "job:custom_events",
      key: "newsletter",
      value: "1",
    },
    {
      window_start: 1931245210000,
      map: "job:custom_events",
      key: "product_view",
      value: "1",
    },
    {
      window_start: 1931245210000,
      map: "job:sessions_by_channel",
      key: "Organic Search",
      value: "1",
    },
    {
      window_start: 1931245210000,
      map: "pages",
      key: "/p/0",
      value: "1",
    },
    {
      window_start: 1931245210000,
      map: "products",
      key: "sku-2",
      value: '{"name":"name of sku-2","views":1,"cart_adds":1,"purchases":0,"revenue_units":0}',
    },
    {
      window_start: 1931245210000,
      map: "vitals",
      key: "INP",
      value: '{"zeros":0,"buckets":{"281":1},"count":1}',
    },
  ],
};

export const AT_END = {
  rows: {
    days: [
      {
        day: "2031-03-14",
        state:
          '{"day":"2031-03-14","counters":{"revenue_units":{"EUR":190000,"USD":95000},"events":71,"page_views":13,"visitors":5,"sessions":5,"bounces":1,"cart_adds":12,"cart_removes":4,"checkouts":3,"purchases":3,"cart_add_units":1785000,"cart_remove_units":390000},"funnel":{"product_views":4,"cart_adds":4,"checkouts":1,"purchases":1},"abandoned":{"sessions":3,"value_units":1230000}}',
      },
    ],
    dayEntries: [
      {
        day: "2031-03-14",
        map: "job:custom_events",
        key: "newsletter",
        value: "6",
      },
      {
        day: "2031-03-14",
        map: "job:custom_events",
        key: "product_view",
        value: "12",
      },
      {
        day: "2031-03-14",
        map: "job:custom_events",
        key: "signup_click",
        value: "6",
      },
      {
        day: "2031-03-14",
        map: "job:sessions_by_channel",
        key: "Email",
        value: "2",
      },
      {
        day: "2031-03-14",
        map: "job:sessions_by_channel",
        key: "Organic Search",
        value: "2",
      },
      {
        day: "2031-03-14",
        map: "job:sessions_by_channel",
        key: "Paid Search",
        value: "1",
      },
      {
        day: "2031-03-14",
        map: "pages",
        key: "/land/0",
        value: "1",
      },
      {
        day: "2031-03-14",
        map: "pages",
        key: "/land/1",
        value: "1",
      },
      {
        day: "2031-03-14",
        map: "pages",
        key: "/land/2",
        value: "1",
      },
      {
        day: "2031-03-14",
        map: "pages",
        key: "/land/3",
        value: "1",
      },
      {
        day: "2031-03-14",
        map: "pages",
        key: "/once",
        value: "1",
      },
      {
        day: "2031-03-14",
        map: "pages",
        key: "/p/0",
        value: "2",
      },
      {
        day: "2031-03-14",
        map: "pages",
        key: "/p/1",
        value: "2",
      },
      {
        day: "2031-03-14",
        map: "pages",
        key: "/p/2",
        value: "1",
      },
      {
        day: "2031-03-14",
        map: "pages",
        key: "/p/3",
        value: "1",
      },
      {
        day: "2031-03-14",
        map: "pages",
        key: "/p/4",
        value: "2",
      },
      {
        day: "2031-03-14",
        map: "products",
        key: "sku-0",
        value: '{"name":"name of sku-0","views":4,"cart_adds":4,"purchases":1,"revenue_units":95000}',
      },
      {
        day: "2031-03-14",
        map: "products",
        key: "sku-1",
        value: '{"name":"name of sku-1","views":4,"cart_adds":4,"purchases":1,"revenue_units":95000}',
      },
      {
        day: "2031-03-14",
        map: "products",
        key: "sku-2",
        value: '{"name":"name of sku-2","views":4,"cart_adds":4,"purchases":1,"revenue_units":95000}',
      },
      {
        day: "2031-03-14",
        map: "referrers",
        key: "ref-0.example",
        value: "2",
      },
      {
        day: "2031-03-14",
        map: "referrers",
        key: "ref-1.example",
        value: "2",
      },
      {
        day: "2031-03-14",
        map: "referrers",
        key: "ref-2.example",
        value: "1",
      },
      {
        day: "2031-03-14",
        map: "vitals",
        key: "/p/0",
        value:
          '{"samples":3,"metrics":{"LCP":{"zeros":0,"buckets":{"240":1},"count":1},"INP":{"zeros":0,"buckets":{"281":1},"count":1},"CLS":{"zeros":0,"buckets":{"-80":1},"count":1}}}',
      },
      {
        day: "2031-03-14",
        map: "vitals",
        key: "/p/1",
        value:
          '{"samples":3,"metrics":{"CLS":{"zeros":0,"buckets":{"-195":1},"count":1},"LCP":{"zeros":0,"buckets":{"287":1},"count":1},"INP":{"zeros":0,"buckets":{"307":1},"count":1}}}',
      },
      {
        day: "2031-03-14",
        map: "vitals",
        key: "/p/2",
        value:
          '{"samples":2,"metrics":{"INP":{"zeros":0,"buckets":{"261":1},"count":1},"CLS":{"zeros":0,"buckets":{"-98":1},"count":1}}}',
      },
      {
        day: "2031-03-14",
        map: "vitals",
        key: "/p/3",
        value:
          '{"samples":2,"metrics":{"LCP":{"zeros":0,"buckets":{"269":1},"count":1},"INP":{"zeros":0,"buckets":{"296":1},"count":1}}}',
      },
      {
        day: "2031-03-14",
        map: "vitals",
        key: "/p/4",
        value:
          '{"samples":2,"metrics":{"CLS":{"zeros":0,"buckets":{"-126":1},"count":1},"LCP":{"zeros":0,"buckets":{"300":1},"count":1}}}',
      },
    ],
    windows: [
      {
        start: 1931245190000,
        state:
          '{"start":1931245190000,"total":{"counters":{"revenue_units":{},"events":5,"page_views":1,"visitors":1,"sessions":1,"bounces":0,"cart_adds":1,"cart_removes":0,"checkouts":0,"purchases":0,"cart_add_units":42500,"cart_remove_units":0}},"emitted":{"revenue_units":{},"events":5,"page_views":1,"visitors":1,"sessions":1,"bounces":0,"cart_adds":1,"cart_removes":0,"checkouts":0,"purchases":0,"cart_add_units":42500,"cart_remove_units":0},"parts":1}',
        needs_part: 0,
      },
      {
        start: 1931245200000,
        state:
          '{"start":1931245200000,"total":{"counters":{"revenue_units":{"EUR":95000},"events":24,"page_views":4,"visitors":4,"sessions":4,"bounces":0,"cart_adds":4,"cart_removes":2,"checkouts":1,"purchases":1,"cart_add_units":395000,"cart_remove_units":135000}},"emitted":{"revenue_units":{"EUR":95000},"events":24,"page_views":4,"visitors":4,"sessions":4,"bounces":0,"cart_adds":4,"cart_removes":2,"checkouts":1,"purchases":1,"cart_add_units":395000,"cart_remove_units":135000},"parts":1}',
        needs_part: 0,
      },
      {
        start: 1931245210000,
        state:
          '{"start":1931245210000,"total":{"counters":{"revenue_units":{"USD":95000},"events":23,"page_views":4,"visitors":4,"sessions":4,"bounces":0,"cart_adds":4,"cart_removes":1,"checkouts":1,"purchases":1,"cart_add_units":635000,"cart_remove_units":112500}},"emitted":{"revenue_units":{"USD":95000},"events":23,"page_views":4,"visitors":4,"sessions":4,"bounces":0,"cart_adds":4,"cart_removes":1,"checkouts":1,"purchases":1,"cart_add_units":635000,"cart_remove_units":112500},"parts":1}',
        needs_part: 0,
      },
      {
        start: 1931245220000,
        state:
          '{"start":1931245220000,"total":{"counters":{"revenue_units":{"EUR":95000},"events":19,"page_views":4,"visitors":4,"sessions":4,"bounces":1,"cart_adds":3,"cart_removes":1,"checkouts":1,"purchases":1,"cart_add_units":712500,"cart_remove_units":142500}},"emitted":{"revenue_units":{"EUR":95000},"events":19,"page_views":4,"visitors":4,"sessions":4,"bounces":1,"cart_adds":3,"cart_removes":1,"checkouts":1,"purchases":1,"cart_add_units":712500,"cart_remove_units":142500},"parts":1}',
        needs_part: 0,
      },
    ],
    windowEntries: [
      {
        window_start: 1931245190000,
        map: "job:custom_events",
        key: "product_view",
        value: "1",
      },
      {
        window_start: 1931245190000,
        map: "job:custom_events",
        key: "signup_click",
        value: "1",
      },
      {
        window_start: 1931245190000,
        map: "job:sessions_by_channel",
        key: "Email",
        value: "1",
      },
      {
        window_start: 1931245190000,
        map: "pages",
        key: "/land/0",
        value: "1",
      },
      {
        window_start: 1931245190000,
        map: "products",
        key: "sku-0",
        value: '{"name":"name of sku-0","views":1,"cart_adds":1,"purchases":0,"revenue_units":0}',
      },
      {
        window_start: 1931245190000,
        map: "vitals",
        key: "LCP",
        value: '{"zeros":0,"buckets":{"240":1},"count":1}',
      },
      {
        window_start: 1931245200000,
        map: "job:custom_events",
        key: "newsletter",
        value: "2",
      },
      {
        window_start: 1931245200000,
        map: "job:custom_events",
        key: "product_view",
        value: "4",
      },
      {
        window_start: 1931245200000,
        map: "job:custom_events",
        key: "signup_click",
        value: "2",
      },
      {
        window_start: 1931245200000,
        map: "job:sessions_by_channel",
        key: "Email",
        value: "2",
      },
      {
        window_start: 1931245200000,
        map: "job:sessions_by_channel",
        key: "Organic Search",
        value: "2",
      },
      {
        window_start: 1931245200000,
        map: "pages",
        key: "/land/1",
        value: "1",
      },
      {
        window_start: 1931245200000,
        map: "pages",
        key: "/land/2",
        value: "1",
      },
      {
        window_start: 1931245200000,
        map: "pages",
        key: "/land/3",
        value: "1",
      },
      {
        window_start: 1931245200000,
        map: "pages",
        key: "/p/4",
        value: "1",
      },
      {
        window_start: 1931245200000,
        map: "products",
        key: "sku-0",
        value: '{"name":"name of sku-0","views":1,"cart_adds":1,"purchases":0,"revenue_units":0}',
      },
      {
        window_start: 1931245200000,
        map: "products",
        key: "sku-1",
        value: '{"name":"name of sku-1","views":2,"cart_adds":2,"purchases":0,"revenue_units":0}',
      },
      {
        window_start: 1931245200000,
        map: "products",
        key: "sku-2",
        value: '{"name":"name of sku-2","views":1,"cart_adds":1,"purchases":1,"revenue_units":95000}',
      },
      {
        window_start: 1931245200000,
        map: "vitals",
        key: "CLS",
        value: '{"zeros":0,"buckets":{"-195":1,"-126":1},"count":2}',
      },
      {
        window_start: 1931245200000,
        map: "vitals",
        key: "INP",
        value: '{"zeros":0,"buckets":{"261":1},"count":1}',
      },
      {
        window_start: 1931245200000,
        map: "vitals",
        key: "LCP",
        value: '{"zeros":0,"buckets":{"269":1},"count":1}',
      },
      {
        window_start: 1931245210000,
        map: "job:custom_events",
        key: "newsletter",
        value: "2",
      },
      {
        window_start: 1931245210000,
        map: "job:custom_events",
        key: "product_view",
        value: "4",
      },
      {
        window_start: 1931245210000,
        map: "job:custom_events",
        key: "signup_click",
        value: "2",
      },
      {
        window_start: 1931245210000,
        map: "job:sessions_by_channel",
        key: "Email",
        value: "2",
      },
      {
        window_start: 1931245210000,
        map: "job:sessions_by_channel",
        key: "Organic Search",
        value: "2",
      },
      {
        window_start: 1931245210000,
        map: "pages",
        key: "/p/0",
        value: "1",
      },
      {
        window_start: 1931245210000,
        map: "pages",
        key: "/p/1",
        value: "1",
      },
      {
        window_start: 1931245210000,
        map: "pages",
        key: "/p/2",
        value: "1",
      },
      {
        window_start: 1931245210000,
        map: "pages",
        key: "/p/3",
        value: "1",
      },
      {
        window_start: 1931245210000,
        map: "products",
        key: "sku-0",
        value: '{"name":"name of sku-0","views":1,"cart_adds":1,"purchases":1,"revenue_units":95000}',
      },
      {
        window_start: 1931245210000,
        map: "products",
        key: "sku-1",
        value: '{"name":"name of sku-1","views":1,"cart_adds":1,"purchases":0,"revenue_units":0}',
      },
      {
        window_start: 1931245210000,
        map: "products",
        key: "sku-2",
        value: '{"name":"name of sku-2","views":2,"cart_adds":2,"purchases":0,"revenue_units":0}',
      },
      {
        window_start: 1931245210000,
        map: "vitals",
        key: "CLS",
        value: '{"zeros":0,"buckets":{"-98":1},"count":1}',
      },
      {
        window_start: 1931245210000,
        map: "vitals",
        key: "INP",
        value: '{"zeros":0,"buckets":{"281":1,"296":1},"count":2}',
      },
      {
        window_start: 1931245210000,
        map: "vitals",
        key: "LCP",
        value: '{"zeros":0,"buckets":{"287":1},"count":1}',
      },
      {
        window_start: 1931245220000,
        map: "job:custom_events",
        key: "newsletter",
        value: "2",
      },
      {
        window_start: 1931245220000,
        map: "job:custom_events",
        key: "product_view",
        value: "3",
      },
      {
        window_start: 1931245220000,
        map: "job:custom_events",
        key: "signup_click",
        value: "1",
      },
      {
        window_start: 1931245220000,
        map: "job:sessions_by_channel",
        key: "Email",
        value: "1",
      },
      {
        window_start: 1931245220000,
        map: "job:sessions_by_channel",
        key: "Organic Search",
        value: "2",
      },
      {
        window_start: 1931245220000,
        map: "job:sessions_by_channel",
        key: "Paid Search",
        value: "1",
      },
      {
        window_start: 1931245220000,
        map: "pages",
        key: "/once",
        value: "1",
      },
      {
        window_start: 1931245220000,
        map: "pages",
        key: "/p/0",
        value: "1",
      },
      {
        window_start: 1931245220000,
        map: "pages",
        key: "/p/1",
        value: "1",
      },
      {
        window_start: 1931245220000,
        map: "pages",
        key: "/p/4",
        value: "1",
      },
      {
        window_start: 1931245220000,
        map: "products",
        key: "sku-0",
        value: '{"name":"name of sku-0","views":1,"cart_adds":1,"purchases":0,"revenue_units":0}',
      },
      {
        window_start: 1931245220000,
        map: "products",
        key: "sku-1",
        value: '{"name":"name of sku-1","views":1,"cart_adds":1,"purchases":1,"revenue_units":95000}',
      },
      {
        window_start: 1931245220000,
        map: "products",
        key: "sku-2",
        value: '{"name":"name of sku-2","views":1,"cart_adds":1,"purchases":0,"revenue_units":0}',
      },
      {
        window_start: 1931245220000,
        map: "vitals",
        key: "CLS",
        value: '{"zeros":0,"buckets":{"-80":1},"count":1}',
      },
      {
        window_start: 1931245220000,
        map: "vitals",
        key: "INP",
        value: '{"zeros":0,"buckets":{"307":1},"count":1}',
      },
      {
        window_start: 1931245220000,
        map: "vitals",
        key: "LCP",
        value: '{"zeros":0,"buckets":{"300":1},"count":1}',
      },
    ],
  },
  live: {
    windows:
      '[{"start":1931245220000,"end":1931245230000,"counts":{"events":19,"page_views":4,"visitors":4,"sessions":4,"bounces":1,"cart_adds":3,"cart_removes":1,"checkouts":1,"purchases":1,"revenue":9.5,"revenue_by_currency":{"EUR":9.5}},"jobs":{"custom_events":{"product_view":3,"newsletter":2,"signup_click":1},"sessions_by_channel":{"Organic Search":2,"Email":1,"Paid Search":1}}},{"start":1931245210000,"end":1931245220000,"counts":{"events":23,"page_views":4,"visitors":4,"sessions":4,"bounces":0,"cart_adds":4,"cart_removes":1,"checkouts":1,"purchases":1,"revenue":9.5,"revenue_by_currency":{"USD":9.5}},"jobs":{"custom_events":{"product_view":4,"newsletter":2,"signup_click":2},"sessions_by_channel":{"Email":2,"Organic Search":2}}},{"start":1931245200000,"end":1931245210000,"counts":{"events":24,"page_views":4,"visitors":4,"sessions":4,"bounces":0,"cart_adds":4,"cart_removes":2,"checkouts":1,"purchases":1,"revenue":9.5,"revenue_by_currency":{"EUR":9.5}},"jobs":{"custom_events":{"product_view":4,"newsletter":2,"signup_click":2},"sessions_by_channel":{"Email":2,"Organic Search":2}}},{"start":1931245190000,"end":1931245200000,"counts":{"events":5,"page_views":1,"visitors":1,"sessions":1,"bounces":0,"cart_adds":1,"cart_removes":0,"checkouts":0,"purchases":0,"revenue":0,"revenue_by_currency":{}},"jobs":{"custom_events":{"product_view":1,"signup_click":1},"sessions_by_channel":{"Email":1}}}]',
    today:
      '{"day":"2031-03-14","counts":{"events":71,"page_views":13,"visitors":5,"sessions":5,"bounces":1,"cart_adds":12,"cart_removes":4,"checkouts":3,"purchases":3,"revenue":28.5,"revenue_by_currency":{"EUR":19,"USD":9.5}},"funnel":{"sessions":5,"product_views":4,"cart_adds":4,"checkouts":1,"purchases":1},"abandoned_carts":{"sessions":3,"value":123},"pages":{"/p/0":2,"/p/1":2,"/p/4":2,"/land/0":1,"/land/1":1,"/land/2":1,"/land/3":1,"/once":1,"/p/2":1,"/p/3":1},"referrers":{"ref-0.example":2,"ref-1.example":2,"ref-2.example":1},"products":{"sku-0":{"name":"name of sku-0","views":4,"cart_adds":4,"purchases":1,"revenue":9.5},"sku-1":{"name":"name of sku-1","views":4,"cart_adds":4,"purchases":1,"revenue":9.5},"sku-2":{"name":"name of sku-2","views":4,"cart_adds":4,"purchases":1,"revenue":9.5}},"vitals":{"/p/0":{"LCP":{"zeros":0,"buckets":{"240":1},"count":1},"INP":{"zeros":0,"buckets":{"281":1},"count":1},"CLS":{"zeros":0,"buckets":{"-80":1},"count":1}},"/p/1":{"CLS":{"zeros":0,"buckets":{"-195":1},"count":1},"LCP":{"zeros":0,"buckets":{"287":1},"count":1},"INP":{"zeros":0,"buckets":{"307":1},"count":1}},"/p/2":{"INP":{"zeros":0,"buckets":{"261":1},"count":1},"CLS":{"zeros":0,"buckets":{"-98":1},"count":1}},"/p/3":{"LCP":{"zeros":0,"buckets":{"269":1},"count":1},"INP":{"zeros":0,"buckets":{"296":1},"count":1}},"/p/4":{"CLS":{"zeros":0,"buckets":{"-126":1},"count":1},"LCP":{"zeros":0,"buckets":{"300":1},"count":1}}},"jobs":{"custom_events":{"product_view":12,"newsletter":6,"signup_click":6},"sessions_by_channel":{"Email":2,"Organic Search":2,"Paid Search":1}}}',
    online: 0,
    hubWindows:
      '[{"events":19,"page_views":4,"visitors":4,"sessions":4,"bounces":1,"cart_adds":3,"cart_removes":1,"checkouts":1,"purchases":1,"revenue":9.5,"revenue_by_currency":{"EUR":9.5},"start":1931245220000,"end":1931245230000,"jobs":{"custom_events":[{"key":"product_view","count":3},{"key":"newsletter","count":2},{"key":"signup_click","count":1}],"sessions_by_channel":[{"key":"Organic Search","count":2},{"key":"Email","count":1},{"key":"Paid Search","count":1}]}},{"events":23,"page_views":4,"visitors":4,"sessions":4,"bounces":0,"cart_adds":4,"cart_removes":1,"checkouts":1,"purchases":1,"revenue":9.5,"revenue_by_currency":{"USD":9.5},"start":1931245210000,"end":1931245220000,"jobs":{"custom_events":[{"key":"product_view","count":4},{"key":"newsletter","count":2},{"key":"signup_click","count":2}],"sessions_by_channel":[{"key":"Email","count":2},{"key":"Organic Search","count":2}]}},{"events":24,"page_views":4,"visitors":4,"sessions":4,"bounces":0,"cart_adds":4,"cart_removes":2,"checkouts":1,"purchases":1,"revenue":9.5,"revenue_by_currency":{"EUR":9.5},"start":1931245200000,"end":1931245210000,"jobs":{"custom_events":[{"key":"product_view","count":4},{"key":"newsletter","count":2},{"key":"signup_click","count":2}],"sessions_by_channel":[{"key":"Email","count":2},{"key":"Organic Search","count":2}]}},{"events":5,"page_views":1,"visitors":1,"sessions":1,"bounces":0,"cart_adds":1,"cart_removes":0,"checkouts":0,"purchases":0,"revenue":0,"revenue_by_currency":{},"start":1931245190000,"end":1931245200000,"jobs":{"custom_events":[{"key":"product_view","count":1},{"key":"signup_click","count":1}],"sessions_by_channel":[{"key":"Email","count":1}]}}]',
    overview:
      '{"site":"<site>","day":"2031-03-14","online":0,"totals":{"events":71,"page_views":13,"visitors":5,"sessions":5,"bounces":1,"cart_adds":12,"cart_removes":4,"checkouts":3,"purchases":3,"revenue":28.5,"revenue_by_currency":{"EUR":19,"USD":9.5}},"funnel":{"sessions":5,"product_views":4,"cart_adds":4,"checkouts":1,"purchases":1,"rates":{"product_view":0.8,"cart_add":1,"checkout":0.25,"purchase":1,"overall":0.2}},"abandoned_carts":{"sessions":3,"value":123},"top_pages":[{"path":"/p/0","views":2},{"path":"/p/1","views":2},{"path":"/p/4","views":2},{"path":"/land/0","views":1},{"path":"/land/1","views":1},{"path":"/land/2","views":1},{"path":"/land/3","views":1},{"path":"/once","views":1},{"path":"/p/2","views":1},{"path":"/p/3","views":1}],"top_referrers":[{"host":"ref-0.example","visits":2},{"host":"ref-1.example","visits":2},{"host":"ref-2.example","visits":1}],"top_products":[{"product_id":"sku-0","name":"name of sku-0","views":4,"cart_adds":4,"purchases":1,"revenue":9.5},{"product_id":"sku-1","name":"name of sku-1","views":4,"cart_adds":4,"purchases":1,"revenue":9.5},{"product_id":"sku-2","name":"name of sku-2","views":4,"cart_adds":4,"purchases":1,"revenue":9.5}],"jobs":{"custom_events":[{"key":"product_view","count":12},{"key":"newsletter","count":6},{"key":"signup_click","count":6}],"sessions_by_channel":[{"key":"Email","count":2},{"key":"Organic Search","count":2},{"key":"Paid Search","count":1}]}}',
    performance:
      '{"site":"<site>","day":"2031-03-14","relative_error":0.01,"pages":[{"path":"/p/0","vitals":{"LCP":{"p75":120.31456328864435,"count":1},"INP":{"p75":273.18166371111323,"count":1},"CLS":{"p75":0.1998668923232057,"count":1}}},{"path":"/p/1","vitals":{"CLS":{"p75":0.020036887210371113,"count":1},"LCP":{"p75":308.0126978657512,"count":1},"INP":{"p75":459.5070769510535,"count":1}}},{"path":"/p/2","vitals":{"INP":{"p75":183.11670367609437,"count":1},"CLS":{"p75":0.13944072574013439,"count":1}}},{"path":"/p/3","vitals":{"LCP":{"p75":214.89058857293494,"count":1},"INP":{"p75":368.76036263516966,"count":1}}},{"path":"/p/4","vitals":{"CLS":{"p75":0.07964831954069954,"count":1},"LCP":{"p75":399.47439724136643,"count":1}}}]}',
  },
};
