// Starts GraphiQL with the settings the gateway put in #graphiql-config.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var NAMESPACE = "graphiql:";

  // Headers hold credentials, so none may reach localStorage. shouldPersistHeaders: false keeps
  // them out of the tabs, but GraphiQL 3 still writes each run's headers into its query history
  // ("graphiql:queries"): this storage drops every "headers" value before anything is written.
  function withoutHeaders(value) {
    var parsed;
    try {
      parsed = JSON.parse(value);
    } catch (notJson) {
      return value;
    }
    return JSON.stringify(parsed, function (key, item) {
      return key === "headers" ? undefined : item;
    });
  }
  function ownKeys() {
    return Object.keys(localStorage).filter(function (key) {
      return key.indexOf(NAMESPACE) === 0;
    });
  }
  var storage = {
    getItem: function (key) {
      return localStorage.getItem(key);
    },
    setItem: function (key, value) {
      localStorage.setItem(key, withoutHeaders(value));
    },
    removeItem: function (key) {
      localStorage.removeItem(key);
    },
    clear: function () {
      ownKeys().forEach(function (key) {
        localStorage.removeItem(key);
      });
    },
    get length() {
      return ownKeys().length;
    },
  };

  // GraphiQL reads the headers pane as strict JSON, which has no comments: a header whose name
  // starts with "#" is the page's way of commenting one out, and is never sent.
  function sentHeaders(typed) {
    var headers = {};
    Object.keys(typed || {}).forEach(function (name) {
      if (name.charAt(0) !== "#") {
        headers[name] = typed[name];
      }
    });
    return headers;
  }

  // Subscriptions go over a WebSocket to the same endpoint (graphql-transport-ws, through the
  // vendored graphql-ws client). A socket carries its credentials once, in connection_init's
  // payload, so it is opened with the headers of the run that needs it, and a run with other
  // headers gets a socket of its own (the older one, and what runs on it, ends): credentials
  // typed later never ride on an older socket.
  var socketUrl =
    (window.location.protocol === "https:" ? "wss://" : "ws://") +
    window.location.host +
    window.location.pathname;
  var socket = null;
  var socketHeaders = null;
  function socketFor(headers) {
    var key = JSON.stringify(headers);
    if (socket !== null && socketHeaders !== key) {
      socket.dispose();
      socket = null;
    }
    if (socket === null) {
      socket = graphqlWs.createClient({ url: socketUrl, connectionParams: headers });
      socketHeaders = key;
    }
    return socket;
  }

  function fetcher(params, options) {
    var headers = sentHeaders(options && options.headers);
    // GraphiQL's fetcher calls `subscribe` only for a subscription operation; queries and
    // mutations stay on HTTP (the page is served at the GraphQL endpoint itself).
    var wsClient = {
      subscribe: function (payload, sink) {
        return socketFor(headers).subscribe(payload, sink);
      },
    };
    var run = GraphiQL.createFetcher({ url: window.location.pathname, wsClient: wsClient });
    return run(params, Object.assign({}, options, { headers: headers }));
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      storage: storage,
      shouldPersistHeaders: false,
      defaultQuery: config.defaultQuery,
      defaultHeaders: config.defaultHeaders,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
      inputValueDeprecation: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    }),
  );
})();
