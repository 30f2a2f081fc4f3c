//! The schematic geography of the demo province, in CRS84 lon/lat: a hand-drawn outline, the
//! municipal seats, the rivers, the roads and the railways.
//!
//! Everything here is drawn for the demo from general knowledge of the area (main towns at their
//! real coordinates, rivers and roads along their rough course). It is not official data and not
//! derived from any third-party file.

/// The province outline, clockwise from the north-west: the Adda on the west, the Oglio on the
/// north-east, the Po along the south.
pub const OUTLINE: &[(f64, f64)] = &[
    (9.470, 45.500),
    (9.550, 45.530),
    (9.700, 45.500),
    (9.850, 45.470),
    (9.930, 45.420),
    (10.000, 45.330),
    (10.100, 45.250),
    (10.260, 45.228),
    (10.420, 45.150),
    (10.550, 45.030),
    (10.500, 44.970),
    (10.400, 44.960),
    (10.250, 45.000),
    (10.100, 45.070),
    (10.000, 45.110),
    (9.870, 45.105),
    (9.780, 45.170),
    (9.740, 45.210),
    (9.620, 45.280),
    (9.520, 45.350),
    (9.478, 45.395),
    (9.488, 45.430),
];

/// A municipality of the demo: name, seat (lon, lat), residents (demo values).
pub struct Town {
    pub name: &'static str,
    pub lon: f64,
    pub lat: f64,
    pub residents: i64,
}

const fn town(name: &'static str, lon: f64, lat: f64, residents: i64) -> Town {
    Town {
        name,
        lon,
        lat,
        residents,
    }
}

/// The municipalities: the ten main towns at their real coordinates first, then the others.
/// Each schematic municipality stands for its own territory and that of smaller neighbours,
/// so residents add up to about the province's 356,000.
pub const TOWNS: &[Town] = &[
    town("Cremona", 10.024, 45.133, 71_500),
    town("Crema", 9.686, 45.364, 34_400),
    town("Casalmaggiore", 10.418, 44.989, 15_600),
    town("Soresina", 9.857, 45.287, 9_300),
    town("Castelleone", 9.762, 45.294, 9_700),
    town("Pizzighettone", 9.787, 45.187, 6_900),
    town("Soncino", 9.872, 45.399, 8_100),
    town("Rivolta d'Adda", 9.512, 45.470, 8_400),
    town("Piadena Drizzona", 10.367, 45.129, 4_500),
    town("Pandino", 9.553, 45.406, 9_100),
    town("Casalbuttano ed Uniti", 9.962, 45.252, 5_200),
    town("Vescovato", 10.166, 45.175, 5_100),
    town("Sospiro", 10.158, 45.107, 4_200),
    town("San Daniele Po", 10.178, 45.066, 2_400),
    town("Torre de' Picenardi", 10.290, 45.145, 2_900),
    town("Isola Dovarese", 10.310, 45.174, 2_200),
    town("Ostiano", 10.252, 45.210, 3_900),
    town("Robecco d'Oglio", 10.077, 45.259, 3_300),
    town("Annicco", 9.877, 45.243, 3_100),
    town("Grumello Cremonese ed Uniti", 9.866, 45.194, 2_900),
    town("Sesto ed Uniti", 9.916, 45.174, 4_100),
    town("Spinadesco", 9.926, 45.151, 2_600),
    town("Castelverde", 9.993, 45.187, 6_600),
    town("Persico Dosimo", 10.107, 45.184, 4_400),
    town("Gadesco-Pieve Delmona", 10.115, 45.156, 3_100),
    town("Malagnino", 10.114, 45.134, 2_800),
    town("Stagno Lombardo", 10.092, 45.074, 2_600),
    town("Gussola", 10.350, 45.014, 3_800),
    town("Scandolara Ravara", 10.300, 45.053, 2_500),
    town("Rivarolo del Re ed Uniti", 10.467, 45.028, 3_000),
    town("San Giovanni in Croce", 10.373, 45.074, 3_000),
    town("Calvatone", 10.442, 45.127, 2_300),
    town("Romanengo", 9.783, 45.377, 4_200),
    town("Offanengo", 9.743, 45.378, 6_900),
    town("Trescore Cremasco", 9.626, 45.403, 4_000),
    town("Bagnolo Cremasco", 9.612, 45.361, 5_800),
    town("Spino d'Adda", 9.489, 45.401, 8_000),
    town("Agnadello", 9.556, 45.445, 4_900),
    town("Vailate", 9.604, 45.464, 5_600),
    town("Sergnano", 9.702, 45.427, 4_600),
    town("Montodine", 9.712, 45.286, 3_600),
    town("Ripalta Cremasca", 9.693, 45.333, 4_300),
    town("Madignano", 9.723, 45.345, 3_900),
    town("Dovera", 9.541, 45.365, 4_900),
    town("Vaiano Cremasco", 9.591, 45.372, 4_900),
    town("Casalmorano", 9.898, 45.289, 2_700),
    town("Genivolta", 9.878, 45.332, 2_200),
    town("Trigolo", 9.816, 45.330, 2_800),
    town("Paderno Ponchielli", 9.928, 45.238, 2_500),
    town("Pieve San Giacomo", 10.190, 45.132, 2_700),
    town("Motta Baluffi", 10.258, 45.056, 2_000),
    town("Cicognolo", 10.196, 45.168, 2_100),
    town("Pozzaglio ed Uniti", 9.999, 45.203, 2_500),
    town("Corte de' Frati", 10.099, 45.216, 2_500),
    town("Grontardo", 10.149, 45.200, 2_600),
    town("Formigara", 9.772, 45.227, 2_200),
    town("San Bassano", 9.810, 45.241, 3_300),
    town("Gombito", 9.730, 45.258, 1_700),
    town("Camisano", 9.745, 45.443, 2_400),
    town("Acquanegra Cremonese", 9.893, 45.166, 2_300),
];

/// The rivers that form the border: the provincial boundary follows them, so their course is the
/// outline between two of its vertices (indices into [`OUTLINE`], walked in the direction of the
/// flow), extended upstream and downstream beyond the province.
#[allow(clippy::type_complexity)] // a table of literals
pub const BORDER_RIVERS: &[(&str, (f64, f64), &[usize], (f64, f64))] = &[
    (
        "Po",
        (9.760, 45.110),
        &[15, 14, 13, 12, 11, 10],
        (10.620, 44.990),
    ),
    (
        "Adda",
        (9.460, 45.560),
        &[0, 21, 20, 19, 18, 17, 16, 15],
        (9.880, 45.095),
    ),
    (
        "Oglio",
        (9.820, 45.520),
        &[3, 4, 5, 6, 7, 8, 9],
        (10.600, 45.005),
    ),
];

/// The other rivers: name and course, upstream to downstream.
pub const RIVERS: &[(&str, &[(f64, f64)])] = &[
    (
        "Serio",
        &[
            (9.690, 45.520),
            (9.700, 45.440),
            (9.694, 45.370),
            (9.700, 45.320),
            (9.708, 45.280),
            (9.690, 45.250),
            (9.660, 45.262),
        ],
    ),
    (
        "Morbasco",
        &[
            (9.900, 45.260),
            (9.950, 45.200),
            (9.990, 45.150),
            (10.000, 45.112),
        ],
    ),
    (
        "Delmona",
        &[
            (10.020, 45.250),
            (10.100, 45.190),
            (10.180, 45.120),
            (10.230, 45.040),
        ],
    ),
];

/// Roads: class, reference, name, course.
#[allow(clippy::type_complexity)] // a table of literals
pub const ROADS: &[(&str, &str, &str, &[(f64, f64)])] = &[
    (
        "motorway",
        "A21",
        "Autostrada A21 Piacenza-Cremona-Brescia",
        &[
            (9.950, 45.060),
            (10.000, 45.112),
            (10.055, 45.145),
            (10.080, 45.200),
            (10.100, 45.262),
            (10.120, 45.320),
        ],
    ),
    (
        "state",
        "SS10",
        "SS10 Padana Inferiore",
        &[
            (9.700, 45.180),
            (9.787, 45.180),
            (9.900, 45.160),
            (10.024, 45.140),
            (10.200, 45.140),
            (10.367, 45.135),
            (10.560, 45.110),
        ],
    ),
    (
        "state",
        "SS415",
        "SS415 Paullese",
        &[
            (9.420, 45.440),
            (9.500, 45.415),
            (9.600, 45.385),
            (9.686, 45.360),
            (9.762, 45.300),
            (9.900, 45.210),
            (10.024, 45.140),
        ],
    ),
    (
        "state",
        "SS45bis",
        "SS45bis Gardesana Occidentale",
        &[
            (10.024, 45.140),
            (10.040, 45.200),
            (10.080, 45.300),
            (10.110, 45.380),
        ],
    ),
    (
        "state",
        "SS498",
        "SS498 Soncinese",
        &[
            (9.857, 45.287),
            (9.868, 45.340),
            (9.872, 45.399),
            (9.890, 45.480),
        ],
    ),
    (
        "state",
        "SS343",
        "SS343 Asolana",
        &[
            (10.418, 44.995),
            (10.430, 45.060),
            (10.442, 45.127),
            (10.470, 45.200),
        ],
    ),
    (
        "provincial",
        "SP ex SS234",
        "SP ex SS234 Codognese",
        &[
            (10.024, 45.138),
            (9.930, 45.150),
            (9.787, 45.190),
            (9.700, 45.200),
        ],
    ),
    (
        "provincial",
        "SP ex SS591",
        "SP ex SS591 Cremasca",
        &[(9.686, 45.368), (9.700, 45.430), (9.720, 45.520)],
    ),
    (
        "provincial",
        "SP ex SS472",
        "SP ex SS472 Bergamina",
        &[
            (9.512, 45.470),
            (9.553, 45.410),
            (9.600, 45.370),
            (9.686, 45.362),
        ],
    ),
    (
        "provincial",
        "SP 85",
        "SP 85 Bassa di Casalmaggiore",
        &[
            (10.024, 45.128),
            (10.158, 45.100),
            (10.300, 45.050),
            (10.418, 44.992),
        ],
    ),
    (
        "provincial",
        "SP 33",
        "SP 33 Seriana",
        &[
            (9.762, 45.294),
            (9.857, 45.290),
            (9.962, 45.255),
            (10.077, 45.259),
        ],
    ),
    (
        "provincial",
        "SP 26",
        "SP 26 Soresina-Castelverde",
        &[
            (9.857, 45.285),
            (9.930, 45.230),
            (9.993, 45.187),
            (10.024, 45.145),
        ],
    ),
];

/// Railways: name and course through the main stations.
pub const RAILWAYS: &[(&str, &[(f64, f64)])] = &[
    (
        "Cremona-Treviglio",
        &[
            (10.030, 45.143),
            (9.940, 45.230),
            (9.857, 45.292),
            (9.760, 45.330),
            (9.690, 45.358),
            (9.620, 45.420),
            (9.560, 45.520),
        ],
    ),
    (
        "Cremona-Codogno",
        &[
            (10.030, 45.143),
            (9.930, 45.160),
            (9.790, 45.184),
            (9.700, 45.190),
        ],
    ),
    (
        "Cremona-Brescia",
        &[
            (10.030, 45.143),
            (10.050, 45.210),
            (10.077, 45.262),
            (10.110, 45.330),
        ],
    ),
    (
        "Cremona-Mantova",
        &[
            (10.030, 45.143),
            (10.160, 45.150),
            (10.290, 45.140),
            (10.367, 45.126),
            (10.560, 45.120),
        ],
    ),
    (
        "Cremona-Fidenza",
        &[
            (10.030, 45.143),
            (10.010, 45.112),
            (9.990, 45.070),
            (9.980, 45.000),
        ],
    ),
];

/// Stations: name, railway, position.
pub const STATIONS: &[(&str, &str, f64, f64)] = &[
    ("Cremona", "Cremona-Treviglio", 10.030, 45.143),
    ("Soresina", "Cremona-Treviglio", 9.857, 45.292),
    ("Castelleone", "Cremona-Treviglio", 9.760, 45.330),
    ("Crema", "Cremona-Treviglio", 9.690, 45.358),
    ("Casaletto Vaprio", "Cremona-Treviglio", 9.620, 45.420),
    ("Olmeneta", "Cremona-Treviglio", 9.940, 45.230),
    ("Pizzighettone", "Cremona-Codogno", 9.790, 45.184),
    ("Acquanegra Cremonese", "Cremona-Codogno", 9.930, 45.160),
    ("Robecco-Pontevico", "Cremona-Brescia", 10.077, 45.262),
    ("Vescovato", "Cremona-Mantova", 10.160, 45.150),
    ("Torre de' Picenardi", "Cremona-Mantova", 10.290, 45.140),
    ("Piadena", "Cremona-Mantova", 10.367, 45.126),
];

/// Motorway junctions on the A21: name, position.
pub const JUNCTIONS: &[(&str, f64, f64)] = &[
    ("Cremona", 10.055, 45.145),
    ("Castelvetro", 9.996, 45.108),
    ("Pontevico-Robecco", 10.098, 45.255),
];
