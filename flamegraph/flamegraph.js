// Interaction for gperf's flame graphs: hover details, click to zoom,
// reset, and a search box that highlights matching frames and shows the
// share of the total they cover. Self-contained: nothing is fetched.
// fgConfig is defined by the SVG just before this script.
"use strict";
(function () {
	var cfg = fgConfig;
	var nodes = [];
	var byGroup = new Map();
	var zoomed = null;
	var searchRe = null;
	var frames, details, matched, unzoom, search;

	function fit(n, width) {
		var chars = Math.floor(width / (cfg.fontSize * cfg.fontWidth));
		if (chars < 3) {
			return "";
		}
		if (n.name.length <= chars) {
			return n.name;
		}
		return n.name.slice(0, chars - 2) + "..";
	}

	function place(n, x, width) {
		n.rect.setAttribute("x", x.toFixed(2));
		n.rect.setAttribute("width", width.toFixed(2));
		n.text.setAttribute("x", (x + 3).toFixed(2));
		n.text.textContent = fit(n, width);
	}

	function init() {
		frames = document.getElementById("frames");
		details = document.getElementById("details");
		matched = document.getElementById("matched");
		unzoom = document.getElementById("unzoom");
		search = document.getElementById("search");
		var gs = frames.getElementsByTagName("g");
		for (var i = 0; i < gs.length; i++) {
			var g = gs[i];
			var rect = g.getElementsByTagName("rect")[0];
			var title = g.getElementsByTagName("title")[0].textContent;
			var n = {
				g: g,
				rect: rect,
				text: g.getElementsByTagName("text")[0],
				title: title,
				name: title.slice(0, title.lastIndexOf(" (")),
				x: Number(g.getAttribute("data-x")),
				w: Number(g.getAttribute("data-w")),
				depth: Math.round((cfg.base - Number(rect.getAttribute("y"))) / cfg.frameHeight) - 1,
				fill: rect.getAttribute("fill"),
				px: Number(rect.getAttribute("x")),
				pw: Number(rect.getAttribute("width"))
			};
			nodes.push(n);
			byGroup.set(g, n);
		}
		frames.addEventListener("click", function (e) {
			var n = nodeOf(e.target);
			if (n) {
				zoom(n);
			}
		});
		frames.addEventListener("mouseover", function (e) {
			var n = nodeOf(e.target);
			if (n) {
				details.textContent = "Function: " + n.title;
			}
		});
		frames.addEventListener("mouseout", function () {
			details.textContent = " ";
		});
		unzoom.addEventListener("click", resetZoom);
		search.addEventListener("input", function () {
			setSearch(search.value);
		});
		search.addEventListener("keydown", function (e) {
			if (e.key === "Escape") {
				search.value = "";
				setSearch("");
			}
		});
		window.addEventListener("keydown", function (e) {
			if ((e.key === "f" && (e.ctrlKey || e.metaKey)) || (e.key === "/" && e.target !== search)) {
				e.preventDefault();
				search.focus();
			} else if (e.key === "Escape" && e.target !== search) {
				resetZoom();
			}
		});
	}

	function nodeOf(el) {
		while (el && el !== frames) {
			var n = byGroup.get(el);
			if (n) {
				return n;
			}
			el = el.parentNode;
		}
		return null;
	}

	// zoom makes n span the whole width: its descendants scale with it,
	// its ancestors stretch across (faded), everything else is hidden.
	function zoom(n) {
		if (n.depth === 0) {
			resetZoom();
			return;
		}
		zoomed = n;
		var usable = cfg.width - 2 * cfg.xpad;
		var scale = usable / n.w;
		for (var i = 0; i < nodes.length; i++) {
			var m = nodes[i];
			m.g.classList.remove("parent", "zoomed-out");
			if (m.depth < n.depth && m.x <= n.x && m.x + m.w >= n.x + n.w) {
				m.g.classList.add("parent");
				place(m, cfg.xpad, usable);
			} else if (m.depth >= n.depth && m.x >= n.x && m.x + m.w <= n.x + n.w) {
				place(m, cfg.xpad + (m.x - n.x) * scale, m.w * scale);
			} else {
				m.g.classList.add("zoomed-out");
			}
		}
		unzoom.classList.remove("hide");
	}

	function resetZoom() {
		zoomed = null;
		for (var i = 0; i < nodes.length; i++) {
			var m = nodes[i];
			m.g.classList.remove("parent", "zoomed-out");
			place(m, m.px, m.pw);
		}
		unzoom.classList.add("hide");
	}

	function escapeRe(s) {
		return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
	}

	// setSearch highlights the frames whose name matches term (a regular
	// expression, or literal text if it is not one) and prints the share
	// of the total weight they cover, counting nested matches once.
	function setSearch(term) {
		searchRe = null;
		if (term !== "") {
			try {
				searchRe = new RegExp(term);
			} catch (err) {
				searchRe = new RegExp(escapeRe(term));
			}
		}
		var hits = [];
		for (var i = 0; i < nodes.length; i++) {
			var m = nodes[i];
			if (searchRe && m.depth > 0 && searchRe.test(m.name)) {
				m.rect.setAttribute("fill", "rgb(230,0,230)");
				m.g.classList.add("match");
				hits.push(m);
			} else {
				m.rect.setAttribute("fill", m.fill);
				m.g.classList.remove("match");
			}
		}
		if (!searchRe) {
			matched.textContent = " ";
			return;
		}
		hits.sort(function (a, b) {
			return a.x - b.x || b.w - a.w;
		});
		var sum = 0;
		var end = -1;
		for (var j = 0; j < hits.length; j++) {
			if (hits[j].x >= end) {
				sum += hits[j].w;
				end = hits[j].x + hits[j].w;
			}
		}
		matched.textContent = "Matched: " + (100 * sum / cfg.total).toFixed(2) + "%";
	}

	window.flamegraph = {
		zoom: function (i) { zoom(nodes[i]); },
		reset: resetZoom,
		search: function (term) { search.value = term; setSearch(term); },
		nodes: nodes
	};
	if (document.readyState === "loading") {
		document.addEventListener("DOMContentLoaded", init);
	} else {
		init();
	}
})();
