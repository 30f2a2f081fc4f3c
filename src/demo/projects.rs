//! The ~150 development-pact projects of the demo, placed so that analysis has something to find:
//! inside productive areas (some of supra-municipal interest), just outside them, across parks,
//! Natura 2000 sites and fluvial belts, on strategic agricultural land, far from everything, and
//! the ordinary services and links in and between towns.
//!
//! Their attributes are as the monitoring unit knew them on the demo's today
//! ([`super::history::TODAY`], late 2026): planned dates fit the status (proposals start in the
//! future, completed projects ended before today, some projects in progress are past their
//! planned end), and progress, the amount committed and the amount spent are the last state of
//! each project's monitoring path ([`super::history`]): nothing committed while proposed, spent
//! never above committed, committed never above the budget, spent close to the budget once
//! completed. The layer is editable (`[layer.edit]`), with the rules of `field_rules`.

use geo::{Area, Contains, Coord, Distance, Euclidean, Geometry, Intersects, LineString, Point};

use super::geography::TOWNS;
use super::history;
pub use super::project_fields::{FIELDS, STATUSES};
use super::rng::Rng;
use super::styles::Style;
use super::world::{anchor, rectangle, Productive, World};
use super::{s, DemoError, EditSpec, LayerSpec, Output, RoleSpec, Row};
use crate::catalog::{Allowed, Derived, FieldRule, System};
use crate::crs::CRS84;
use crate::feature::Value;
use crate::sink::LayerGeometry;

pub(super) const LAYERS: &[LayerSpec] = &[LayerSpec {
    id: "projects",
    title: "Progetti del Patto per lo sviluppo",
    description: "The development-pact projects, with axis, emblematic action, AQST programme, \
         progress and spending; editable, with the monitoring unit's history of past rounds.",
    system: System::Projects,
    output: Output {
        file: "projects.geojson",
        driver: "GeoJSON",
        crs: CRS84,
        options: &["RFC7946=YES", "WRITE_NAME=NO"],
    },
    geometry: LayerGeometry::Any,
    id_field: "id",
    fields: FIELDS,
    style: || Style::circle("axis", &AXIS_COLOURS, 6.0).any_geometry(),
    role: Some(RoleSpec {
        layer: "projects",
        fields: &[
            ("project_title", "title"),
            ("project_axis", "axis"),
            ("project_action", "emblematic_action"),
            ("project_aqst", "aqst_programme"),
            ("project_status", "status"),
            ("project_budget", "budget_eur"),
            ("project_progress", "progress_pct"),
            ("project_committed", "committed_eur"),
            ("project_spent", "spent_eur"),
            ("project_end", "end_date"),
        ],
    }),
    edit: Some(EditSpec {
        id_prefix: "P",
        history_file: history::FILE,
        history: history::lines,
        rules: field_rules,
    }),
    rows: |world, rng| world.projects(rng),
}];

/// How many projects the generator places in each situation (the demo tests assert at least
/// these counts with the engine).
pub const INSIDE_PRODUCTIVE: usize = 24;
/// Of which inside productive areas of supra-municipal interest.
pub const INSIDE_SOVRACOMUNALE: usize = 12;
pub const JUST_OUTSIDE: usize = 16;
pub const CROSSING_CONSTRAINTS: usize = 24;
pub const ON_AGRICULTURAL_LAND: usize = 22;
pub const FAR_FROM_EVERYTHING: usize = 16;
pub const ORDINARY: usize = 48;
/// "Just outside": between these distances (m) from the nearest productive area.
pub const JUST_OUTSIDE_M: (f64, f64) = (100.0, 450.0);
/// "Far": at least this far (m) from every productive area, and touching no constraint.
pub const FAR_M: f64 = 2500.0;

/// The 8 strategic axes (demo names).
pub const AXES: [&str; 8] = [
    "Sistema agroalimentare",
    "Agroenergia e ambiente",
    "Sistema produttivo e innovazione",
    "Conoscenza e formazione",
    "Infrastrutture e mobilità",
    "Cultura",
    "Turismo",
    "Welfare e servizi alla persona",
];

pub const AXIS_COLOURS: [(&str, &str); 8] = [
    ("1", "#f1c40f"),
    ("2", "#27ae60"),
    ("3", "#8e44ad"),
    ("4", "#2980b9"),
    ("5", "#e67e22"),
    ("6", "#c0392b"),
    ("7", "#16a085"),
    ("8", "#e84393"),
];

/// The 16 emblematic actions (demo names) and the axis each belongs to.
pub const ACTIONS: [(&str, i64); 16] = [
    ("Polo della ricerca agroalimentare", 1),
    ("Distretto lattiero-caseario", 1),
    ("Filiera agroenergetica", 2),
    ("Valorizzazione dei parchi fluviali", 2),
    ("Polo logistico del porto di Cremona", 3),
    ("Aree produttive di interesse sovracomunale", 3),
    ("Centri di eccellenza per l'innovazione d'impresa", 4),
    ("Polo universitario e formazione tecnica", 4),
    ("Idrovia Cremona-Milano", 5),
    ("Riqualificazione della Paullese", 5),
    ("Rete ciclabile dei fiumi", 5),
    ("Distretto della liuteria e della musica", 6),
    ("Sistema museale provinciale", 6),
    ("Turismo fluviale sul Po", 7),
    ("Rete dei servizi socio-sanitari e RSA", 8),
    ("Banda larga per le aree produttive", 3),
];

const LEADS: [&str; 7] = [
    "Provincia di Cremona",
    "Regione Lombardia",
    "Camera di Commercio di Cremona",
    "Consorzio di bonifica",
    "ASST di Cremona",
    "Università e centri di ricerca",
    "Associazioni di categoria",
];

/// The AQST programmes: the first programme of action, the supplementary one, or none.
pub const AQST: [&str; 3] = ["primo", "integrativo", "none"];

/// A project before its attributes are filled in.
struct Draft {
    title: String,
    axis: i64,
    geometry: Geometry<f64>,
}

impl World {
    /// The project rows, in situation order, their attributes drawn last.
    pub(super) fn projects(&self, rng: &mut Rng) -> Result<Vec<Row>, DemoError> {
        let mut drafts: Vec<Draft> = Vec::new();
        self.inside_productive(rng, &mut drafts)?;
        self.just_outside(rng, &mut drafts)?;
        self.crossing_constraints(rng, &mut drafts);
        self.on_agricultural_land(rng, &mut drafts);
        self.far_from_everything(rng, &mut drafts)?;
        self.ordinary(rng, &mut drafts);
        drafts
            .into_iter()
            .enumerate()
            .map(|(i, d)| self.attributes(i, d, rng))
            .collect()
    }

    fn attributes(&self, i: usize, d: Draft, rng: &mut Rng) -> Result<Row, DemoError> {
        let municipality = self.municipality_of(anchor(&d.geometry)?);
        let action = if rng.f64() < 0.5 {
            let candidates: Vec<&(&str, i64)> =
                ACTIONS.iter().filter(|(_, a)| *a == d.axis).collect();
            if candidates.is_empty() {
                None
            } else {
                Some(rng.pick(&candidates).0)
            }
        } else {
            None
        };
        let aqst = match (action.is_some(), rng.f64()) {
            (true, x) if x < 0.55 => AQST[0],
            (true, x) if x < 0.85 => AQST[1],
            (false, x) if x < 0.15 => AQST[0],
            (false, x) if x < 0.35 => AQST[1],
            _ => AQST[2],
        };
        let status = *rng.pick(&STATUSES);
        let base = match d.geometry {
            Geometry::Point(_) => rng.range(11.5, 15.5),
            Geometry::LineString(_) => rng.range(13.5, 17.0),
            _ => rng.range(13.0, 17.5),
        };
        let budget = (base.exp() / 1000.0).round() * 1000.0;
        let (start, end) = planned_dates(status, rng);
        let lead = if rng.f64() < 0.4 {
            format!("Comune di {municipality}")
        } else {
            rng.pick(&LEADS).to_string()
        };
        let now = history::track(i, status, budget, &start, &end)?.last();
        let values = vec![
            s(&format!("P{:03}", i + 1)),
            s(&d.title),
            Value::Int(d.axis),
            s(AXES[(d.axis - 1) as usize]),
            action.map(s).unwrap_or(Value::Null),
            s(aqst),
            s(STATUSES[now.status]),
            Value::Int(now.progress),
            Value::Real(budget),
            Value::Real(now.committed),
            Value::Real(now.spent),
            s(&lead),
            s(municipality),
            Value::Date(start.into()),
            Value::Date(end.into()),
        ];
        Ok((d.geometry, values))
    }

    fn in_any_productive(&self, p: Coord<f64>) -> bool {
        self.productive.iter().any(|a| a.shape.contains(&Point(p)))
    }

    fn distance_to_productive(&self, g: &Geometry<f64>) -> f64 {
        self.productive
            .iter()
            .map(|a| Euclidean.distance(g, &Geometry::Polygon(a.shape.clone())))
            .fold(f64::INFINITY, f64::min)
    }

    fn touches_constraint(&self, g: &Geometry<f64>) -> bool {
        self.parks.iter().any(|(_, _, m)| m.intersects(g))
            || self.natura.iter().any(|(_, _, _, m)| m.intersects(g))
            || self.belts.iter().any(|(_, _, m)| m.intersects(g))
            || self.corridors.iter().any(|(_, _, m)| m.intersects(g))
    }

    fn inside_productive(&self, rng: &mut Rng, out: &mut Vec<Draft>) -> Result<(), DemoError> {
        let sovra: Vec<&Productive> = self.productive.iter().filter(|p| p.sovracomunale).collect();
        let other: Vec<&Productive> = self
            .productive
            .iter()
            .filter(|p| !p.sovracomunale)
            .collect();
        const TITLES: [(&str, i64); 6] = [
            ("Centro servizi per le imprese", 3),
            ("Incubatore di imprese innovative", 4),
            ("Urbanizzazione primaria e banda larga", 3),
            ("Piattaforma logistica intermodale", 5),
            ("Laboratorio di ricerca applicata", 4),
            ("Ampliamento stabilimento agroalimentare", 1),
        ];
        for k in 0..INSIDE_PRODUCTIVE {
            let area = if k < INSIDE_SOVRACOMUNALE {
                sovra[k % sovra.len()]
            } else {
                other[k % other.len()]
            };
            let (title, axis) = TITLES[k % TITLES.len()];
            let centre =
                area.shape
                    .exterior()
                    .0
                    .iter()
                    .take(4)
                    .fold(Coord { x: 0.0, y: 0.0 }, |a, c| Coord {
                        x: a.x + c.x / 4.0,
                        y: a.y + c.y / 4.0,
                    });
            let inside = area.shape.contains(&Point(centre));
            let centre = if inside {
                centre
            } else {
                anchor(&Geometry::Polygon(area.shape.clone()))?
            };
            // Two projects in one area must not share a point: move off the centre a little.
            let reach = area.shape.unsigned_area().sqrt() * 0.2;
            let centre = (0..20)
                .map(|_| Coord {
                    x: centre.x + rng.range(-reach, reach),
                    y: centre.y + rng.range(-reach, reach),
                })
                .find(|c| area.shape.contains(&Point(*c)))
                .unwrap_or(centre);
            let geometry = if k % 2 == 0 {
                // A small lot around the centre, kept inside the area.
                let side = (area.shape.unsigned_area().sqrt() * 0.25).max(40.0);
                let lot = rectangle(centre, side, side * 0.8, rng.range(0.0, 3.0));
                if area.shape.contains(&lot) {
                    Geometry::Polygon(lot)
                } else {
                    Geometry::Point(Point(centre))
                }
            } else {
                Geometry::Point(Point(centre))
            };
            out.push(Draft {
                title: format!("{title} - {}", area.name),
                axis,
                geometry,
            });
        }
        Ok(())
    }

    fn just_outside(&self, rng: &mut Rng, out: &mut Vec<Draft>) -> Result<(), DemoError> {
        let mut k = 0usize;
        let mut tries = 0;
        while k < JUST_OUTSIDE && tries < 10_000 {
            tries += 1;
            let area = &self.productive[k % self.productive.len()];
            let vertex = area.shape.exterior().0[(tries % 4) as usize];
            let centre = anchor(&Geometry::Polygon(area.shape.clone()))?;
            let (dx, dy) = (vertex.x - centre.x, vertex.y - centre.y);
            let len = dx.hypot(dy);
            let d = rng.range(JUST_OUTSIDE_M.0 + 20.0, JUST_OUTSIDE_M.1 - 50.0);
            let p = Coord {
                x: vertex.x + dx / len * d,
                y: vertex.y + dy / len * d,
            };
            let g = Geometry::Point(Point(p));
            let dist = self.distance_to_productive(&g);
            if !self.province.contains(&Point(p))
                || dist < JUST_OUTSIDE_M.0
                || dist > JUST_OUTSIDE_M.1
            {
                continue;
            }
            let title = [
                "Nuovo insediamento artigianale",
                "Deposito e magazzino di filiera",
                "Centro direzionale",
            ][k % 3];
            out.push(Draft {
                title: format!("{title} presso {}", area.name),
                axis: 3,
                geometry: g,
            });
            k += 1;
        }
        Ok(())
    }

    fn crossing_constraints(&self, rng: &mut Rng, out: &mut Vec<Draft>) {
        // Cycle routes across the big rivers' belts and parks, and works on the river banks.
        let names = ["Po", "Adda", "Oglio", "Serio"];
        let mut k = 0usize;
        let mut tries = 0;
        while k < CROSSING_CONSTRAINTS && tries < 10_000 {
            tries += 1;
            let river = names[k % names.len()];
            let Some((_, line)) = self.rivers.iter().find(|(n, _)| *n == river) else {
                break;
            };
            let n = line.0.len();
            let i = 1 + (rng.next_u64() as usize) % (n - 2);
            let (a, b) = (line.0[i - 1], line.0[i + 1]);
            let (dx, dy) = (b.x - a.x, b.y - a.y);
            let len = dx.hypot(dy);
            // The big rivers run along the border: work on the province's side.
            let side = if tries % 2 == 0 { 1.0 } else { -1.0 };
            let (nx, ny) = (-dy / len * side, dx / len * side);
            let c = line.0[i];
            let geometry = if k % 3 == 2 {
                // A restoration area on the bank, its edge 100 m from the river.
                Geometry::Polygon(rectangle(
                    Coord {
                        x: c.x + nx * 250.0,
                        y: c.y + ny * 250.0,
                    },
                    600.0,
                    300.0,
                    dy.atan2(dx),
                ))
            } else {
                // A route from the countryside down to the bank, then along it.
                let p = Coord {
                    x: c.x + nx * 2500.0,
                    y: c.y + ny * 2500.0,
                };
                let bank = Coord {
                    x: c.x + nx * 150.0,
                    y: c.y + ny * 150.0,
                };
                let q = Coord {
                    x: bank.x + dx / len * 1200.0,
                    y: bank.y + dy / len * 1200.0,
                };
                Geometry::LineString(LineString(vec![p, bank, q]))
            };
            if !self.province.contains(&geometry) || !self.touches_constraint(&geometry) {
                continue;
            }
            let title = match (&geometry, k % 2) {
                (Geometry::Polygon(_), _) => {
                    format!("Rinaturalizzazione di una lanca del fiume {river}")
                }
                (_, 0) => format!("Ciclovia del fiume {river}"),
                _ => format!("Percorso naturalistico lungo il fiume {river}"),
            };
            let axis = if matches!(geometry, Geometry::Polygon(_)) {
                2
            } else if k % 2 == 0 {
                5
            } else {
                7
            };
            out.push(Draft {
                title,
                axis,
                geometry,
            });
            k += 1;
        }
    }

    fn on_agricultural_land(&self, rng: &mut Rng, out: &mut Vec<Draft>) {
        let mut k = 0usize;
        let mut tries = 0;
        const TITLES: [(&str, i64); 5] = [
            ("Impianto fotovoltaico a terra", 2),
            ("Nuovo polo logistico", 3),
            ("Centro zootecnico sperimentale", 1),
            ("Variante stradale", 5),
            ("Piattaforma agroalimentare", 1),
        ];
        while k < ON_AGRICULTURAL_LAND && tries < 10_000 {
            tries += 1;
            let (_, _, town, shape) =
                &self.agricultural[(rng.next_u64() as usize) % self.agricultural.len()];
            let Some(bb) = geo::BoundingRect::bounding_rect(shape) else {
                continue;
            };
            let c = random_in(&bb, rng);
            if !shape.contains(&Point(c)) {
                continue;
            }
            let (title, axis) = TITLES[k % TITLES.len()];
            let ha = rng.range(5.0, 40.0);
            let w = (ha * 10_000.0 * 1.5).sqrt();
            let lot = rectangle(c, w, ha * 10_000.0 / w, rng.range(0.0, 3.0));
            if !self.province.contains(&lot)
                || self.productive.iter().any(|p| p.shape.intersects(&lot))
            {
                continue;
            }
            out.push(Draft {
                title: format!("{title} a {}", TOWNS[*town].name),
                axis,
                geometry: Geometry::Polygon(lot),
            });
            k += 1;
        }
    }

    fn far_from_everything(&self, rng: &mut Rng, out: &mut Vec<Draft>) -> Result<(), DemoError> {
        let bb = geo::BoundingRect::bounding_rect(&self.province)
            .ok_or_else(|| DemoError::Geometry("the province outline is empty".to_string()))?;
        let mut k = 0usize;
        let mut tries = 0;
        const TITLES: [(&str, i64); 4] = [
            ("Recupero della cascina storica", 6),
            ("Agriturismo e fattoria didattica", 7),
            ("Centro diurno per anziani", 8),
            ("Caseificio aziendale", 1),
        ];
        while k < FAR_FROM_EVERYTHING && tries < 20_000 {
            tries += 1;
            let c = random_in(&bb, rng);
            let g = Geometry::Point(Point(c));
            if !self.province.contains(&Point(c))
                || self.in_any_productive(c)
                || self.touches_constraint(&g)
            {
                continue;
            }
            if self.distance_to_productive(&g) < FAR_M {
                continue;
            }
            let (title, axis) = TITLES[k % TITLES.len()];
            out.push(Draft {
                title: format!("{title} ({})", self.municipality_of(c)),
                axis,
                geometry: g,
            });
            k += 1;
        }
        Ok(())
    }

    fn ordinary(&self, rng: &mut Rng, out: &mut Vec<Draft>) {
        const POINT_TITLES: [(&str, i64); 8] = [
            ("Nuova RSA", 8),
            ("Centro diurno integrato", 8),
            ("Restauro del teatro comunale", 6),
            ("Museo civico e archivio storico", 6),
            ("Scuola di liuteria e laboratorio musicale", 6),
            ("Polo scolastico superiore", 4),
            ("Ufficio di informazione turistica", 7),
            ("Centro di ricerca sul latte", 1),
        ];
        for k in 0..ORDINARY {
            let i = (k * 7) % TOWNS.len();
            if k % 4 == 3 {
                // A link between two neighbouring seats: a road variant or a cycle path.
                let j = (0..TOWNS.len())
                    .filter(|&j| j != i)
                    .min_by(|&a, &b| {
                        let d = |j: usize| {
                            (self.towns[j].x - self.towns[i].x)
                                .hypot(self.towns[j].y - self.towns[i].y)
                        };
                        d(a).total_cmp(&d(b))
                    })
                    .unwrap_or(i);
                let (a, b) = (self.towns[i], self.towns[j]);
                let mid = Coord {
                    x: (a.x + b.x) / 2.0 + rng.range(-300.0, 300.0),
                    y: (a.y + b.y) / 2.0 + rng.range(-300.0, 300.0),
                };
                let line = LineString(vec![a, mid, b]);
                if self.province.contains(&line) {
                    let title = if k % 8 == 3 {
                        "Variante stradale"
                    } else {
                        "Pista ciclabile"
                    };
                    out.push(Draft {
                        title: format!("{title} {} - {}", TOWNS[i].name, TOWNS[j].name),
                        axis: 5,
                        geometry: Geometry::LineString(line),
                    });
                    continue;
                }
            }
            let (title, axis) = POINT_TITLES[k % POINT_TITLES.len()];
            let c = self.near(i, 800.0, rng);
            out.push(Draft {
                title: format!("{title} di {}", TOWNS[i].name),
                axis,
                geometry: Geometry::Point(Point(c)),
            });
        }
    }
}

/// Planned start (the 1st of a month) and end (the 28th) of a project with this status on the
/// demo's today (November 2026): proposals start from autumn 2026 on, projects in design or
/// funded from 2025 on, projects in progress started 2021-2025 and last 2 to 6 years (some are
/// past their end), completed projects ended between January 2023 and October 2026.
fn planned_dates(status: &str, rng: &mut Rng) -> (String, String) {
    // Months counted from January of year 0.
    let month = |year: i64, m: i64| year * 12 + m - 1;
    let (start, end) = if status == STATUSES[4] {
        let end = rng.int(month(2023, 1), month(2026, 10));
        (end - rng.int(12, 60), end)
    } else {
        let (from, to, years) = match status {
            "proposed" => (month(2026, 9), month(2028, 12), (2, 5)),
            "design" => (month(2025, 6), month(2028, 6), (2, 5)),
            "funded" => (month(2025, 1), month(2027, 12), (2, 5)),
            _ => (month(2021, 1), month(2025, 12), (2, 6)),
        };
        let start = rng.int(from, to);
        (start, start + rng.int(years.0 * 12, years.1 * 12))
    };
    let date = |m: i64, day: u32| format!("{}-{:02}-{day:02}", m / 12, m % 12 + 1);
    (date(start, 1), date(end, 28))
}

/// The rules of the project fields (`[[layer.field]]`): Italian titles, which QGIS shows as the
/// fields' aliases; the domains an edit must respect; the axis name derived from the axis.
pub(super) fn field_rules() -> Vec<FieldRule> {
    let rule = |name: &str, title: &str| FieldRule {
        name: name.to_string(),
        title: Some(title.to_string()),
        ..FieldRule::default()
    };
    let amount = |name: &str, title: &str, description: &str| FieldRule {
        description: Some(description.to_string()),
        minimum: Some(0.0),
        ..rule(name, title)
    };
    let texts = |values: &[&str]| {
        values
            .iter()
            .map(|v| Allowed::Text(v.to_string()))
            .collect()
    };
    vec![
        rule("id", "Codice progetto"),
        FieldRule {
            required: true,
            ..rule("title", "Titolo")
        },
        FieldRule {
            required: true,
            allowed: (1..=AXES.len() as i64).map(Allowed::Int).collect(),
            ..rule("axis", "Asse strategico")
        },
        FieldRule {
            description: Some("Set by the service from the axis.".to_string()),
            derived: Some(Derived {
                from: "axis".to_string(),
                values: AXES
                    .iter()
                    .enumerate()
                    .map(|(i, name)| ((i + 1).to_string(), name.to_string()))
                    .collect(),
            }),
            ..rule("axis_name", "Nome dell'asse")
        },
        FieldRule {
            allowed: texts(&ACTIONS.map(|(name, _)| name)),
            ..rule("emblematic_action", "Azione emblematica")
        },
        FieldRule {
            allowed: texts(&AQST),
            ..rule("aqst_programme", "Programma AQST")
        },
        FieldRule {
            required: true,
            allowed: texts(&STATUSES),
            ..rule("status", "Stato di attuazione")
        },
        FieldRule {
            required: true,
            minimum: Some(0.0),
            maximum: Some(100.0),
            ..rule("progress_pct", "Avanzamento (%)")
        },
        amount(
            "budget_eur",
            "Costo previsto (EUR)",
            "Planned cost of the project.",
        ),
        amount(
            "committed_eur",
            "Importo impegnato (EUR)",
            "Amount committed (impegnato): contracts and grants awarded, at most the budget.",
        ),
        amount(
            "spent_eur",
            "Importo speso (EUR)",
            "Amount paid out so far, at most the amount committed.",
        ),
        rule("lead_body", "Soggetto capofila"),
        rule("municipality", "Comune"),
        rule("start_date", "Inizio previsto"),
        FieldRule {
            not_before: Some("start_date".to_string()),
            ..rule("end_date", "Fine prevista")
        },
    ]
}

/// A uniformly random point of a box (x drawn first, then y).
fn random_in(bb: &geo::Rect<f64>, rng: &mut Rng) -> Coord<f64> {
    let x = rng.range(bb.min().x, bb.max().x);
    let y = rng.range(bb.min().y, bb.max().y);
    Coord { x, y }
}
