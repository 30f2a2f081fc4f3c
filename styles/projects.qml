<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0" styleCategories="Symbology">
  <renderer-v2 type="categorizedSymbol" attr="axis" symbollevels="0" enableorderby="0" forceraster="0">
    <categories>
      <category symbol="0" value="1" label="1" render="true"/>
      <category symbol="1" value="2" label="2" render="true"/>
      <category symbol="2" value="3" label="3" render="true"/>
      <category symbol="3" value="4" label="4" render="true"/>
      <category symbol="4" value="5" label="5" render="true"/>
      <category symbol="5" value="6" label="6" render="true"/>
      <category symbol="6" value="7" label="7" render="true"/>
      <category symbol="7" value="8" label="8" render="true"/>
      <category symbol="8" value="" label="other" render="true"/>
    </categories>
    <symbols>
      <symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="241,196,15,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="39,174,96,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="142,68,173,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="41,128,185,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="4" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="230,126,34,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="5" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="192,57,43,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="6" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="22,160,133,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="7" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="232,67,147,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="8" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" type="QString" value="127,140,141,255"/>
            <Option name="name" type="QString" value="circle"/>
            <Option name="size" type="QString" value="3.6"/>
            <Option name="outline_color" type="QString" value="255,255,255,255"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
</qgis>
